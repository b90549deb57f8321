package agg

import (
	"math"
	"math/big"
	"sync"
)

// log2Exact returns log2(x) for x > 0 rounded to nearest from an
// approximation good to about 2^-73 relative: correctly rounded but for
// the rare x whose log2 lies within 2^-20 ulp of a rounding boundary.
// glibc's log2, which OpenMLDB's entropy calls, is correctly rounded as
// often (its error stays below 0.55 ulp), so the two agree but for such
// rare x; Go's math.Log2 (error up to about 2 ulp) differs from both in
// the last bit for about one argument in five. Other x (0, negative,
// infinite, NaN) give math.Log2(x).
//
// x = m·2^e with m in [1, 2), and c = 1 + j/256 is the nearest step to m:
// log2(x) = e + log2(c) + log2(m/c), with log2(c) from a table held as
// two float64s and log2(m/c) = 2·atanh(s)/ln 2, s = (m-c)/(m+c), |s| <=
// 2^-10, from four terms of the series, the leading one carried as two
// float64s.
func log2Exact(x float64) float64 {
	if !(x > 0) || math.IsInf(x, 1) {
		return math.Log2(x)
	}
	m, e := math.Frexp(x)
	m, e = 2*m, e-1
	j := int(math.Round((m - 1) * log2Steps))
	c := 1 + float64(j)/log2Steps
	d := m - c // exact: m and c are within a factor of 2
	dh, dl := twoSum(m, c)
	sh := d / dh
	sl := (math.FMA(-sh, dh, d) - float64(sh*dl)) / dh
	// Products are converted explicitly so that no platform fuses them
	// (Go may, on arm64): the result is the same everywhere.
	s2 := sh * sh
	p := s2 * (1.0/3 + float64(s2*(1.0/5+float64(s2*(1.0/7+float64(s2*(1.0/9)))))))
	lh, ll := fastTwoSum(sh, sl+float64(sh*p)) // atanh(s)
	lh, ll = 2*lh, 2*ll                        // ln(m/c)
	k := log2Table()
	rh, rl := twoProd(lh, k.invLn2[0])
	rl += float64(lh*k.invLn2[1]) + float64(ll*k.invLn2[0])
	t := k.log2c[j]
	a, b := twoSum(float64(e), t[0])
	a, b2 := twoSum(a, rh)
	return a + (b + b2 + (t[1] + rl))
}

// log2Steps is the number of table steps between 1 and 2.
const log2Steps = 256

// log2Consts are log2Exact's constants, each a float64 pair (high, low)
// whose sum is the constant to about 106 bits.
type log2Consts struct {
	invLn2 [2]float64
	log2c  [log2Steps + 1][2]float64 // log2(1 + j/log2Steps)
}

// log2Table computes the constants once, with math/big.
var log2Table = sync.OnceValue(func() *log2Consts {
	const prec = 160
	k := &log2Consts{}
	ln2 := bigLn(new(big.Float).SetPrec(prec).SetInt64(2))
	inv := new(big.Float).SetPrec(prec).Quo(new(big.Float).SetPrec(prec).SetInt64(1), ln2)
	k.invLn2 = splitBig(inv)
	for j := range k.log2c {
		y := new(big.Float).SetPrec(prec).SetFloat64(1 + float64(j)/log2Steps)
		l := bigLn(y)
		k.log2c[j] = splitBig(l.Quo(l, ln2))
	}
	return k
})

// bigLn returns ln(y) for y in [1, 2] to y's precision: 2·atanh(s) with
// s = (y-1)/(y+1) <= 1/3, summed until the terms vanish.
func bigLn(y *big.Float) *big.Float {
	prec := y.Prec()
	one := new(big.Float).SetPrec(prec).SetInt64(1)
	s := new(big.Float).SetPrec(prec).Sub(y, one)
	s.Quo(s, new(big.Float).SetPrec(prec).Add(y, one))
	s2 := new(big.Float).SetPrec(prec).Mul(s, s)
	sum := new(big.Float).SetPrec(prec)
	pow := new(big.Float).SetPrec(prec).Set(s)
	term := new(big.Float).SetPrec(prec)
	for n := int64(1); ; n += 2 {
		term.Quo(pow, new(big.Float).SetPrec(prec).SetInt64(n))
		if term.Sign() == 0 || sum.Sign() != 0 && term.MantExp(nil) < sum.MantExp(nil)-int(prec) {
			break
		}
		sum.Add(sum, term)
		pow.Mul(pow, s2)
	}
	return sum.Mul(sum, new(big.Float).SetInt64(2))
}

// splitBig returns x as a float64 pair: x rounded, then the rest rounded.
func splitBig(x *big.Float) [2]float64 {
	hi, _ := x.Float64()
	rest := new(big.Float).SetPrec(x.Prec()).Sub(x, new(big.Float).SetFloat64(hi))
	lo, _ := rest.Float64()
	return [2]float64{hi, lo}
}

// twoSum returns a+b rounded and the rounding error, exactly.
func twoSum(a, b float64) (s, e float64) {
	s = a + b
	bb := s - a
	e = (a - (s - bb)) + (b - bb)
	return s, e
}

// fastTwoSum is twoSum for |a| >= |b| (or a = 0).
func fastTwoSum(a, b float64) (s, e float64) {
	s = a + b
	e = b - (s - a)
	return s, e
}

// twoProd returns a·b rounded and the rounding error, exactly.
func twoProd(a, b float64) (p, e float64) {
	p = a * b
	return p, math.FMA(a, b, -p)
}
