package probe.error_base64_invalid

import rego.v1

result := base64.decode("%%%")
