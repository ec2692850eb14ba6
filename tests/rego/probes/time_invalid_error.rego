package probe.time_invalid_error

import rego.v1

result := time.parse_rfc3339_ns("yesterday")
