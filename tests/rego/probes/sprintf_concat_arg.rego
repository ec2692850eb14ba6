package probe.sprintf_concat_arg

import rego.v1

result := sprintf("name=%s!", [concat("/", ["a", "b"])])
