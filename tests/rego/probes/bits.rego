package probe.bits

import rego.v1

result := [bits.and(12, 10), bits.or(12, 10), bits.xor(12, 10), bits.lsh(1, 4), bits.rsh(16, 2)]
