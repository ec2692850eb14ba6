package probe.type_name_and_is

import rego.v1

result := [type_name(1), type_name("s"), type_name([]), type_name({}), type_name({1}), type_name(null), is_string("x"), is_object([])]
