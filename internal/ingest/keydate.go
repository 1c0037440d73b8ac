package ingest

import (
	"time"
)

// keyDay finds the day an object's key names: …/YYYY/MM/DD/… (CloudTrail, GCS sinks),
// y=YYYY/m=MM/d=DD (Azure storage export), or a _YYYYMMDDTHHMMZ_ CloudTrail file name.
func keyDay(key string) (time.Time, bool) {
	for i := 0; i+11 <= len(key); i++ {
		// /YYYY/MM/DD/
		if key[i] == '/' && i+12 <= len(key) && key[i+5] == '/' && key[i+8] == '/' && key[i+11] == '/' {
			if t, ok := ymd(key[i+1:i+5], key[i+6:i+8], key[i+9:i+11]); ok {
				return t, true
			}
		}
		// y=YYYY/m=MM/d=DD
		if key[i] == 'y' && i+16 <= len(key) && key[i+1] == '=' && key[i+6:i+9] == "/m=" && key[i+11:i+14] == "/d=" {
			if t, ok := ymd(key[i+2:i+6], key[i+9:i+11], key[i+14:i+16]); ok {
				return t, true
			}
		}
		// _YYYYMMDDTHHMMZ
		if key[i] == '_' && i+15 <= len(key) && key[i+9] == 'T' && key[i+14] == 'Z' {
			if t, ok := ymd(key[i+1:i+5], key[i+5:i+7], key[i+7:i+9]); ok {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

func ymd(y, m, d string) (time.Time, bool) {
	yi, ok1 := num(y)
	mi, ok2 := num(m)
	di, ok3 := num(d)
	if !ok1 || !ok2 || !ok3 || yi < 2000 || mi < 1 || mi > 12 || di < 1 || di > 31 {
		return time.Time{}, false
	}
	return time.Date(yi, time.Month(mi), di, 0, 0, 0, 0, time.UTC), true
}

func num(s string) (int, bool) {
	n := 0
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// inWindow keeps keys whose day is within [from, to] by day; keys without a date pass. Days
// are compared whole because a file's key date is its delivery time, which trails the
// events inside by minutes.
func inWindow(key string, from, to time.Time) bool {
	if from.IsZero() && to.IsZero() {
		return true
	}
	day, ok := keyDay(key)
	if !ok {
		return true
	}
	if !from.IsZero() && day.Before(truncDay(from)) {
		return false
	}
	if !to.IsZero() && day.After(truncDay(to)) {
		return false
	}
	return true
}

func truncDay(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}
