package probe.semver_is_valid

import rego.v1

result := [semver.is_valid("1.2.3"), semver.is_valid("v1.2.3"), semver.is_valid("1.2")]
