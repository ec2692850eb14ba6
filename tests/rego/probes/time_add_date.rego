package probe.time_add_date

import rego.v1

ns := time.parse_rfc3339_ns("2024-01-31T00:00:00Z")

result := time.date(time.add_date(ns, 0, 1, 0))
