package deid

import (
	"fmt"
	"strings"
	"time"
)

// Profile names a de-identification profile (../shared/PRIVACY.md).
type Profile string

// Profiles (PRIVACY.md): limited keeps dates (a limited data set under a data
// use agreement); shifted moves every date of a patient by the patient's
// offset and keeps the birth year only; safe_harbor keeps years only.
const (
	ProfileLimited    Profile = "limited"
	ProfileShifted    Profile = "shifted"
	ProfileSafeHarbor Profile = "safe_harbor"
)

// ParseProfile validates a configured profile name.
func ParseProfile(s string) (Profile, error) {
	switch p := Profile(s); p {
	case ProfileLimited, ProfileShifted, ProfileSafeHarbor:
		return p, nil
	}
	return "", fmt.Errorf("unknown de-identification profile %q (want limited, shifted or safe_harbor)", s)
}

// restrictedZIP3 are the three-digit ZIP areas with 20,000 people or fewer
// (2000 Census, as published by HHS); they become "000".
var restrictedZIP3 = map[string]bool{
	"036": true, "059": true, "063": true, "102": true, "203": true, "556": true,
	"692": true, "790": true, "821": true, "823": true, "830": true, "831": true,
	"878": true, "879": true, "884": true, "890": true, "893": true,
}

// ZIP3 returns the first three digits of a US ZIP code, "000" for a restricted
// area, and "" when the input is not a ZIP code.
func ZIP3(zip string) string {
	zip = strings.TrimSpace(zip)
	if len(zip) < 5 {
		return ""
	}
	for i := 0; i < 5; i++ {
		if zip[i] < '0' || zip[i] > '9' {
			return ""
		}
	}
	if len(zip) > 5 && !(len(zip) == 10 && zip[5] == '-') {
		return ""
	}
	z := zip[:3]
	if restrictedZIP3[z] {
		return "000"
	}
	return z
}

// Over89 reports whether a person born on birth is older than 89 at asOf, and
// so must be reported only as "90+".
func Over89(birth, asOf time.Time) bool {
	return AgeAt(birth, asOf) > 89
}

// AgeAt returns the age in whole years at asOf.
func AgeAt(birth, asOf time.Time) int {
	age := asOf.Year() - birth.Year()
	if asOf.Month() < birth.Month() || (asOf.Month() == birth.Month() && asOf.Day() < birth.Day()) {
		age--
	}
	return age
}
