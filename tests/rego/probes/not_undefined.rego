# input: {}
package probe.not_undefined

import rego.v1

result if not input.missing
