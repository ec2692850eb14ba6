package probe.error_semver_invalid

import rego.v1

result := semver.compare("x", "1.0.0")
