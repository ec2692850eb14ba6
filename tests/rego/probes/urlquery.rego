package probe.urlquery

import rego.v1

result := [urlquery.encode("a b&c"), urlquery.decode("a%20b"), urlquery.encode_object({"x": "1", "y": "a b"})]
