# input: {"present":1}
package probe.undefined_reference

import rego.v1

result := input.missing.deeper
