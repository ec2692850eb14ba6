package probe.semver_compare

import rego.v1

result := [semver.compare("1.2.3", "1.10.0"), semver.compare("2.0.0", "2.0.0"), semver.compare("1.0.0-rc.1", "1.0.0")]
