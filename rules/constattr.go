package rules

import (
	"fmt"
	"time"
)

// parseDuration accepts Go durations plus d (days) and w (weeks).
func parseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	var total time.Duration
	rest := s
	for rest != "" {
		i := 0
		for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9' || rest[i] == '.') {
			i++
		}
		j := i
		for j < len(rest) && (rest[j] < '0' || rest[j] > '9') && rest[j] != '.' {
			j++
		}
		if i == 0 || j == i {
			return 0, fmt.Errorf("%q is not a duration like 90s, 15m, 8h or 7d", s)
		}
		num, unit := rest[:i], rest[i:j]
		rest = rest[j:]
		mult := time.Duration(0)
		switch unit {
		case "d":
			mult = 24 * time.Hour
		case "w":
			mult = 7 * 24 * time.Hour
		}
		if mult != 0 {
			var f float64
			if _, err := fmt.Sscanf(num, "%g", &f); err != nil {
				return 0, fmt.Errorf("%q is not a duration like 90s, 15m, 8h or 7d", s)
			}
			total += time.Duration(f * float64(mult))
			continue
		}
		d, err := time.ParseDuration(num + unit)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration like 90s, 15m, 8h or 7d (unit %q)", s, unit)
		}
		total += d
	}
	return total, nil
}
