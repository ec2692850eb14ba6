# input: {"payload":"eyJwcmVkaWNhdGVUeXBlIjogImh0dHBzOi8vc2xzYS5kZXYvcHJvdmVuYW5jZS92MSJ9"}
package probe.base64_decode_payload

import rego.v1

payload := json.unmarshal(base64.decode(input.payload))

result := payload.predicateType
