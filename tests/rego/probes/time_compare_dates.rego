# input: {"built":"2024-05-06T07:08:09+02:00"}
package probe.time_compare_dates

import rego.v1

old := time.parse_rfc3339_ns("2020-01-01T00:00:00Z")

new := time.parse_rfc3339_ns(input.built)

result if new > old
