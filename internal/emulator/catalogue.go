package emulator

import "slices"

// provider is one entry of the emulator's provider catalogue.
type provider struct {
	id          int
	name        string
	slug        string
	description string
	authType    string // SourceAuthType: oauth, password, email, sdk, ...
	sourceType  string // SourceType: app, device, ...
	resources   []string
	color       string // logo background
	backfillDay int
	// mfa: the password form is followed by a verification code step.
	mfa bool
	// device names where an SDK provider lives, for Link's explanation.
	device string
}

// Auth types the hosted Link pages handle (the spec's SourceAuthType).
const (
	authOAuth    = "oauth"    // the provider's consent screen
	authPassword = "password" // username and password, some with MFA
	authEmail    = "email"    // an email address only
	authSDK      = "sdk"      // on the phone, through the Junction Mobile SDK
)

// isOAuth reports whether the provider connects through an OAuth consent
// screen (and so has an oauth_url).
func (p provider) isOAuth() bool { return p.authType == authOAuth }

// linkable reports whether Link (the hosted pages) can connect it; SDK
// providers (HealthKit, Health Connect) need the mobile SDK instead, and
// Link only explains that.
func (p provider) linkable() bool { return p.authType != authSDK }

// catalogue is a realistic subset of Junction's providers. Slugs come from
// the spec's Providers enum; auth types follow Junction's documentation.
var catalogue = []provider{
	{1, "Oura", "oura", "Smart ring tracking sleep, readiness and activity", authOAuth, "device",
		[]string{"profile", "activity", "sleep", "workouts", "heartrate", "hrv", "body_temperature_delta", "steps"}, "#1f2a44", 90, false, ""},
	{2, "Fitbit", "fitbit", "Activity trackers and smartwatches", authOAuth, "device",
		[]string{"profile", "activity", "sleep", "body", "workouts", "heartrate", "steps", "weight"}, "#00b0b9", 90, false, ""},
	{3, "Garmin", "garmin", "GPS watches and fitness devices", authOAuth, "device",
		[]string{"profile", "activity", "sleep", "body", "workouts", "heartrate", "steps", "stress_level"}, "#007cc3", 30, false, ""},
	{4, "WHOOP", "whoop_v2", "Strain, recovery and sleep wearable", authOAuth, "device",
		[]string{"profile", "activity", "sleep", "workouts", "heartrate", "hrv", "respiratory_rate"}, "#191919", 90, false, ""},
	{5, "Withings", "withings", "Connected scales, watches and blood pressure monitors", authOAuth, "device",
		[]string{"profile", "activity", "sleep", "body", "workouts", "weight", "fat", "blood_pressure", "heartrate"}, "#00a7a7", 90, false, ""},
	{6, "Polar", "polar", "Heart rate monitors and sports watches", authOAuth, "device",
		[]string{"profile", "activity", "sleep", "workouts", "heartrate"}, "#d10027", 30, false, ""},
	{7, "Strava", "strava", "Running and cycling activity tracking", authOAuth, "app",
		[]string{"profile", "workouts", "workout_stream"}, "#fc4c02", 90, false, ""},
	{8, "Dexcom", "dexcom_v3", "Continuous glucose monitoring", authOAuth, "device",
		[]string{"profile", "glucose"}, "#58a618", 30, false, ""},
	{9, "Google Fit", "google_fit", "Google's health and activity platform", authOAuth, "app",
		[]string{"profile", "activity", "sleep", "workouts", "heartrate", "steps"}, "#4285f4", 30, false, ""},
	{10, "Wahoo", "wahoo", "Bike computers and indoor trainers", authOAuth, "device",
		[]string{"profile", "workouts"}, "#0b63ce", 30, false, ""},
	{11, "Ultrahuman", "ultrahuman", "Smart ring and metabolic tracking", authOAuth, "device",
		[]string{"profile", "activity", "sleep", "heartrate", "hrv", "glucose"}, "#111111", 30, false, ""},
	{12, "Freestyle Libre", "freestyle_libre", "Continuous glucose monitoring via LibreLinkUp", authPassword, "device",
		[]string{"profile", "glucose"}, "#ffc20e", 90, false, ""},
	{13, "Eight Sleep", "eight_sleep", "Smart mattress covers tracking sleep", authPassword, "device",
		[]string{"profile", "sleep", "heartrate", "hrv"}, "#262626", 90, false, ""},
	{14, "Peloton", "peloton", "Connected fitness bikes and treadmills", authPassword, "device",
		[]string{"profile", "workouts"}, "#df1c2f", 90, false, ""},
	{15, "Abbott LibreView", "abbott_libreview", "Glucose data from LibreView (verification code by email)", authPassword, "device",
		[]string{"profile", "glucose"}, "#0b5fa5", 90, true, ""},
	{16, "Renpho", "renpho", "Smart body composition scales", authEmail, "device",
		[]string{"profile", "body", "weight", "fat"}, "#26a69a", 90, false, ""},
	{17, "Apple HealthKit", "apple_health_kit", "Apple Health data through the Junction mobile SDK", authSDK, "app",
		[]string{"profile", "activity", "sleep", "body", "workouts", "heartrate", "steps"}, "#ff2d55", 30, false, "iPhone"},
	{18, "Health Connect", "health_connect", "Android's Health Connect through the Junction mobile SDK", authSDK, "app",
		[]string{"profile", "activity", "sleep", "body", "workouts", "heartrate", "steps"}, "#3ddc84", 30, false, "Android phone"},
}

func findProvider(slug string) (provider, bool) {
	i := slices.IndexFunc(catalogue, func(p provider) bool { return p.slug == slug })
	if i < 0 {
		return provider{}, false
	}
	return catalogue[i], true
}

// knownProviderSlugs is the spec's Providers enum: what FastAPI accepts
// before Junction's own checks run.
var knownProviderSlugs = []string{
	"oura", "fitbit", "garmin", "whoop", "strava", "renpho", "peloton", "wahoo", "zwift",
	"freestyle_libre", "abbott_libreview", "tandem_source", "freestyle_libre_ble", "eight_sleep",
	"withings", "apple_health_kit", "manual", "ihealth", "google_fit", "beurer_api", "beurer_ble",
	"omron", "omron_ble", "onetouch_ble", "accuchek_ble", "contour_ble", "dexcom", "dexcom_v3",
	"hammerhead", "my_fitness_pal", "health_connect", "samsung_health", "polar", "cronometer",
	"kardia", "whoop_v2", "ultrahuman", "my_fitness_pal_v2", "map_my_fitness", "runkeeper",
	"google_health",
}

func isKnownProviderSlug(slug string) bool { return slices.Contains(knownProviderSlugs, slug) }
