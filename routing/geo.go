package routing

import "math"

const earthRadiusKm = 6371.0

// DistanceKm is the great-circle (haversine) distance between two sites.
func DistanceKm(a, b Site) float64 {
	rad := func(d float64) float64 { return d * math.Pi / 180 }
	dLat, dLon := rad(b.Lat-a.Lat), rad(b.Lon-a.Lon)
	h := math.Sin(dLat/2)*math.Sin(dLat/2) +
		math.Cos(rad(a.Lat))*math.Cos(rad(b.Lat))*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthRadiusKm * math.Asin(math.Min(1, math.Sqrt(h)))
}

// nearest returns the candidate closest to from (ties broken by name, so
// results are stable) and its distance; ok is false when there is none.
func nearest(sites map[string]Site, from string, candidates []string) (best string, km float64, ok bool) {
	for _, c := range candidates {
		d := DistanceKm(sites[from], sites[c])
		if !ok || d < km || (d == km && c < best) {
			best, km, ok = c, d, true
		}
	}
	return best, km, ok
}
