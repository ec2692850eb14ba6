package probe.time_date_clock

import rego.v1

ns := time.parse_rfc3339_ns("2024-02-29T13:14:15Z")

result := [time.date(ns), time.clock(ns), time.weekday(ns)]
