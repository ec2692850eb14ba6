package probe.time_parse_duration

import rego.v1

result := [time.parse_duration_ns("1h30m"), time.parse_duration_ns("250ms")]
