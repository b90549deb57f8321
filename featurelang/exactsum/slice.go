package exactsum

import "math"

// AddSlice adds every value of xs: Add in a loop, faster. Runs of up to
// carryLimit values keep the bookkeeping in registers, and even and odd
// values go to two digit arrays, so consecutive additions to the same
// digit do not wait for each other.
func (a *Acc) AddSlice(xs []float64) {
	if len(xs) < 32 {
		for _, x := range xs {
			a.add(math.Float64bits(x), 0)
		}
		return
	}
	var odd Acc
	for len(xs) >= 2 {
		// Each digit array takes at most carryLimit-n more values before
		// its carry pass (a.n and odd.n are below carryLimit here).
		budget := carryLimit - max(a.n, odd.n)
		used, oddUsed := a.used, odd.used
		pairs, rare := 0, false
		for ; pairs < budget && 2*pairs+1 < len(xs); pairs++ {
			b0, b1 := math.Float64bits(xs[2*pairs]), math.Float64bits(xs[2*pairs+1])
			e0, e1 := uint(b0>>52)&0x7FF, uint(b1>>52)&0x7FF
			if e0-1 >= 0x7FE || e1-1 >= 0x7FE {
				rare = true
				break
			}
			used |= addDigits(&a.d, b0, e0)
			oddUsed |= addDigits(&odd.d, b1, e1)
		}
		a.used, odd.used = used, oddUsed
		a.n += pairs
		odd.n += pairs
		if a.n >= carryLimit {
			a.carry()
		}
		if odd.n >= carryLimit {
			odd.carry()
		}
		xs = xs[2*pairs:]
		if rare { // zeros, subnormals, NaN, infinities: the careful path
			a.add(math.Float64bits(xs[0]), 0)
			odd.add(math.Float64bits(xs[1]), 0)
			xs = xs[2:]
		}
	}
	for _, x := range xs {
		a.add(math.Float64bits(x), 0)
	}
	a.merge(&odd, 0)
}

// addDigits adds a finite, normal float64 with bits b and exponent field e
// to digits d and returns the used-mask bit it touched.
func addDigits(d *[numDigits]int64, b uint64, e uint) uint64 {
	sign := int64(b) >> 63
	m := int64(b&(1<<52-1) | 1<<52)
	m = m ^ sign - sign
	i, s := e/digitBits, e%digitBits
	d[i] += int64(uint32(m << s))
	d[i+1] += m >> (digitBits - s)
	return 1 << i
}
