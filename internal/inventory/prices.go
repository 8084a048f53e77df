package inventory

// listPrices are Microsoft's published monthly list prices (USD cents, annual
// commitment) for common SKUs, used as the starting price of a SKU the first
// time it is seen so plans show costs from day one. Operators override them
// per tenant; a sync never overwrites a price already stored.
var listPrices = map[string]int64{
	"SPE_E5":                   5700,
	"SPE_E3":                   3600,
	"SPE_F1":                   225,
	"ENTERPRISEPREMIUM":        3800,
	"ENTERPRISEPACK":           2300,
	"STANDARDPACK":             1000,
	"O365_BUSINESS_PREMIUM":    2200,
	"SPB":                      2200,
	"O365_BUSINESS":            1250,
	"O365_BUSINESS_ESSENTIALS": 600,
	"EXCHANGESTANDARD":         400,
	"EXCHANGEENTERPRISE":       800,
	"POWER_BI_PRO":             1400,
	"PBI_PREMIUM_PER_USER":     2400,
	"VISIOCLIENT":              1500,
	"VISIOONLINE_PLAN1":        500,
	"PROJECTPROFESSIONAL":      3000,
	"PROJECTPREMIUM":           5500,
	"PROJECT_P1":               1000,
	"EMS":                      1060,
	"EMSPREMIUM":               1640,
	"AAD_PREMIUM":              600,
	"AAD_PREMIUM_P2":           900,
	"TEAMS_EXPLORATORY":        0,
	"FLOW_FREE":                0,
	"POWER_BI_STANDARD":        0,
}
