package examples

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// TaxiColumns are the columns of OpenMLDB's taxi trip duration demo
// table (demo/predict-taxi-trip-duration/script/taxi.sql in OpenMLDB's
// repository), in order.
var TaxiColumns = []string{"id", "vendor_id", "pickup_datetime", "dropoff_datetime", "passenger_count",
	"pickup_longitude", "pickup_latitude", "dropoff_longitude", "dropoff_latitude", "store_and_fwd_flag", "trip_duration"}

// GenerateTaxi returns rows trips in the shape of the taxi trip duration
// demo's data (NYC taxi trips of January 2016), for schema, the demo
// table's (TaxiColumns, as its CREATE TABLE types them): two vendors,
// one to six passengers, pickups over 28 days from start in arrival
// order except for one trip in fifty that comes late, one in
// thirty at the same second as the one before, coordinates around
// Manhattan, and a NULL latitude in one trip in ninety-seven. The same
// arguments always give the same rows.
func GenerateTaxi(schema types.Schema, rows int, seed uint64, start time.Time) (*types.Block, error) {
	if len(schema) != len(TaxiColumns) {
		return nil, fmt.Errorf("examples: the taxi table has %d columns, not %d", len(TaxiColumns), len(schema))
	}
	for i, f := range schema {
		if f.Name != TaxiColumns[i] {
			return nil, fmt.Errorf("examples: column %d of the taxi table is %s, not %s", i+1, TaxiColumns[i], f.Name)
		}
	}
	r := rand.New(rand.NewPCG(seed, seed^0x5bd1e995))
	b := types.NewBlock(schema, rows)
	t0 := start.UnixMilli()
	span := int64(28 * 86400 * 1000)
	pick := t0
	for i := range rows {
		switch {
		case i%30 == 29: // the same second as the trip before
		case i%50 == 49: // late: hours before the trips around it
			pick = max(t0, pick-r.Int64N(6*3600)*1000)
		default:
			pick = t0 + span*int64(i)/int64(rows) + r.Int64N(600)*1000
		}
		lat := types.DoubleValue(40.70 + r.Float64()*0.1)
		if i%97 == 5 {
			lat = types.NullOf(types.Double)
		}
		flag := "N"
		if r.IntN(100) == 0 {
			flag = "Y"
		}
		dur := 60 + r.Int64N(3000)
		b.AppendRow([]types.Value{
			types.StringValue(fmt.Sprintf("id%07d", i)),
			types.IntValue(schema[1].Type, 1+r.Int64N(2)),
			types.TimestampValue(pick), types.TimestampValue(pick + dur*1000),
			types.IntValue(schema[4].Type, 1+r.Int64N(6)),
			types.DoubleValue(-74.02 + r.Float64()*0.1), lat,
			types.DoubleValue(-74.02 + r.Float64()*0.1), types.DoubleValue(40.70 + r.Float64()*0.1),
			types.StringValue(flag), types.IntValue(schema[10].Type, dur),
		})
	}
	return b, nil
}
