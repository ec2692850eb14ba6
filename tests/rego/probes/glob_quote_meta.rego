package probe.glob_quote_meta

import rego.v1

result := glob.quote_meta("*.a?[b]")
