package probe.time_format

import rego.v1

result := time.format([0, "UTC", "2006-01-02T15:04:05Z07:00"])
