package probe.base64_roundtrip

import rego.v1

result := [base64.encode("hello"), base64.decode("aGVsbG8="), base64url.encode("??>"), base64.is_valid("***")]
