package probe.uuid_parse

import rego.v1

result := uuid.parse("00000000-0000-0000-0000-000000000000")
