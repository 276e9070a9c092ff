package httpapi_test

import "time"

// Golden shapes of the Trophy responses, written from Trophy's reference
// independently of the package's own types: decoding with unknown fields
// disallowed pins every field name.

type kvGolden struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type achievementGolden struct {
	ID              string     `json:"id"`
	Key             string     `json:"key"`
	Name            string     `json:"name"`
	Description     *string    `json:"description"`
	BadgeURL        *string    `json:"badgeUrl"`
	Trigger         string     `json:"trigger"`
	MetricID        string     `json:"metricId"`
	MetricName      string     `json:"metricName"`
	MetricValue     *float64   `json:"metricValue"`
	StreakLength    int        `json:"streakLength"`
	AchievementIDs  []string   `json:"achievementIds"`
	UserAttributes  []kvGolden `json:"userAttributes"`
	EventAttributes []kvGolden `json:"eventAttributes"`
	AchievedAt      *time.Time `json:"achievedAt"`
	Completions     *int       `json:"completions"`
	Rarity          *float64   `json:"rarity"`
}

type periodGolden struct {
	PeriodStart string `json:"periodStart"`
	PeriodEnd   string `json:"periodEnd"`
	Length      int    `json:"length"`
	UsedFreeze  bool   `json:"usedFreeze"`
	UsedPause   bool   `json:"usedPause"`
}

type pauseGolden struct {
	ID    string `json:"id"`
	Start string `json:"start"`
	End   string `json:"end"`
}

type streakGolden struct {
	Length                 int            `json:"length"`
	Frequency              string         `json:"frequency"`
	Started                *string        `json:"started"`
	PeriodStart            *string        `json:"periodStart"`
	PeriodEnd              *string        `json:"periodEnd"`
	Expires                *string        `json:"expires"`
	Freezes                *int           `json:"freezes"`
	MaxFreezes             *int           `json:"maxFreezes"`
	FreezeAutoEarnInterval *int           `json:"freezeAutoEarnInterval"`
	FreezeAutoEarnAmount   *int           `json:"freezeAutoEarnAmount"`
	Extended               any            `json:"extended"`
	StreakHistory          []periodGolden `json:"streakHistory"`
	Pauses                 *[]pauseGolden `json:"pauses"`
}

type systemGolden struct {
	ID          string   `json:"id"`
	Key         string   `json:"key"`
	Name        string   `json:"name"`
	Description *string  `json:"description"`
	BadgeURL    *string  `json:"badgeUrl"`
	MaxPoints   *float64 `json:"maxPoints"`
}

type triggerGolden struct {
	ID              string     `json:"id"`
	Type            string     `json:"type"`
	Points          float64    `json:"points"`
	Status          string     `json:"status"`
	MetricID        string     `json:"metricId"`
	MetricThreshold *float64   `json:"metricThreshold"`
	StreakLength    int        `json:"streakLengthThreshold"`
	AchievementID   string     `json:"achievementId"`
	TimeUnit        string     `json:"timeUnit"`
	TimeInterval    int        `json:"timeInterval"`
	UserAttributes  []kvGolden `json:"userAttributes"`
	EventAttributes []kvGolden `json:"eventAttributes"`
}

type boostGolden struct {
	ID         string  `json:"id"`
	Name       string  `json:"name"`
	Status     string  `json:"status"`
	Start      *string `json:"start"`
	End        *string `json:"end"`
	Multiplier float64 `json:"multiplier"`
	Rounding   string  `json:"rounding"`
	UserID     string  `json:"userId"`
}

type awardGolden struct {
	ID      string         `json:"id"`
	Awarded float64        `json:"awarded"`
	Date    time.Time      `json:"date"`
	Total   float64        `json:"total"`
	Trigger *triggerGolden `json:"trigger"`
	Boosts  []boostGolden  `json:"boosts"`
}

type levelGolden struct {
	ID          string  `json:"id"`
	Key         string  `json:"key"`
	Name        string  `json:"name"`
	Description *string `json:"description"`
	BadgeURL    *string `json:"badgeUrl"`
	Points      float64 `json:"points"`
}

type pointsDiffGolden struct {
	systemGolden
	Total  float64       `json:"total"`
	Added  float64       `json:"added"`
	Awards []awardGolden `json:"awards"`
	Level  *levelGolden  `json:"level"`
}

type boardGolden struct {
	ID                  string   `json:"id"`
	Key                 string   `json:"key"`
	Name                string   `json:"name"`
	Description         *string  `json:"description"`
	RankBy              string   `json:"rankBy"`
	MetricKey           string   `json:"metricKey"`
	PointsSystemKey     string   `json:"pointsSystemKey"`
	StreakKey           string   `json:"streakKey"`
	Status              string   `json:"status"`
	Start               *string  `json:"start"`
	End                 *string  `json:"end"`
	MaxParticipants     int      `json:"maxParticipants"`
	BreakdownAttributes []string `json:"breakdownAttributes"`
	RunUnit             *string  `json:"runUnit"`
	RunInterval         int      `json:"runInterval"`
}

type boardChangeGolden struct {
	boardGolden
	Rank                     *int       `json:"rank"`
	PreviousRank             *int       `json:"previousRank"`
	Threshold                float64    `json:"threshold"`
	BreakdownAttributeValues []kvGolden `json:"breakdownAttributeValues"`
}

type userGolden struct {
	ID                string            `json:"id"`
	Email             *string           `json:"email"`
	Name              *string           `json:"name"`
	TZ                *string           `json:"tz"`
	DeviceTokens      []string          `json:"deviceTokens"`
	SubscribeToEmails bool              `json:"subscribeToEmails"`
	Attributes        map[string]string `json:"attributes"`
	Control           bool              `json:"control"`
	Created           *time.Time        `json:"created"`
	Updated           *time.Time        `json:"updated"`
}

func ptr[T any](v T) *T { return &v }
