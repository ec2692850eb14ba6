package probe.time_parse_rfc3339

import rego.v1

result := time.parse_rfc3339_ns("2024-01-02T03:04:05Z")
