package graphsim

// Tables the generator draws from. Strings here are shared by every user that
// uses them, so a million users cost one copy of each department name.

var tenantNames = []struct{ prefix, org, country string }{
	{"contoso", "Contoso Ltd", "US"}, {"fabrikam", "Fabrikam Inc", "US"}, {"northwind", "Northwind Traders", "GB"},
	{"tailspin", "Tailspin Toys", "DE"}, {"woodgrove", "Woodgrove Bank", "US"}, {"adatum", "A. Datum Corporation", "NL"},
	{"litware", "Litware Inc", "FR"}, {"proseware", "Proseware Inc", "DE"},
}

var givenNames = []string{
	"James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
	"William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen",
	"Christopher", "Lisa", "Daniel", "Nancy", "Matthew", "Betty", "Anthony", "Sandra", "Mark", "Margaret",
	"Donald", "Ashley", "Steven", "Kimberly", "Andrew", "Emily", "Paul", "Donna", "Joshua", "Michelle",
	"Kenneth", "Carol", "Kevin", "Amanda", "Brian", "Melissa", "George", "Deborah", "Timothy", "Stephanie",
	"Lukas", "Anna", "Jonas", "Lea", "Felix", "Hannah", "Leon", "Sophie", "Paul", "Marie",
	"Hugo", "Chloé", "Louis", "Camille", "Lucas", "Léa", "Arjun", "Priya", "Rahul", "Ananya",
	"Hiroshi", "Yuki", "Kenji", "Sakura", "Mateus", "Ana", "Gabriel", "Beatriz", "Jan", "Zofia",
	"Piotr", "Maja", "Daan", "Emma", "Sem", "Julia", "Noah", "Olivia", "Liam", "Ava",
	"Ethan", "Mia", "Oliver", "Isla", "Jack", "Grace", "Carlos", "Lucía", "Javier", "Sofía",
	"Adele", "Alex", "Megan", "Grady", "Isaiah", "Johanna", "Lidia", "Lynne", "Miriam", "Nestor",
	"Pradeep", "Diego", "Enrico", "Irvin", "Lee", "Patti", "Henrietta", "Joni", "Raul", "Debra",
}

var surnames = []string{
	"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
	"Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
	"Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
	"Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
	"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
	"Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
	"Sharma", "Patel", "Singh", "Kumar", "Gupta", "Reddy", "Iyer", "Nair", "Sato", "Suzuki",
	"Takahashi", "Tanaka", "Watanabe", "Silva", "Santos", "Oliveira", "Souza", "Costa", "Nowak", "Kowalski",
	"Wiśniewski", "de Jong", "Jansen", "de Vries", "van den Berg", "Bakker", "O'Brien", "Murphy", "Kelly", "Walsh",
	"Vance", "Wilber", "Bowen", "Archie", "McKay", "Lambert", "Holt", "Robbins", "Gibson", "Zrinyi",
}

var externalDomains = []string{"gmail.com", "outlook.com", "partner.example", "agency.example", "yahoo.com"}

type department struct {
	name      string
	weight    int
	frontline bool
	titles    []string // individual contributor titles
	manager   string   // manager title
	costCentr string
}

var departments = []department{
	{"Sales", 16, false, []string{"Account Executive", "Senior Account Executive", "Sales Representative", "Inside Sales Representative", "Sales Engineer"}, "Sales Manager", "CC-1100"},
	{"Marketing", 7, false, []string{"Marketing Specialist", "Content Strategist", "Senior Marketing Manager", "Product Marketing Manager", "Designer"}, "Marketing Director", "CC-1200"},
	{"Engineering", 18, false, []string{"Software Engineer", "Senior Software Engineer", "Principal Engineer", "QA Engineer", "DevOps Engineer"}, "Engineering Manager", "CC-2100"},
	{"Research", 4, false, []string{"Research Scientist", "Senior Research Scientist", "Data Scientist", "Lab Technician"}, "Research Director", "CC-2200"},
	{"Finance", 5, false, []string{"Accountant", "Senior Accountant", "Financial Analyst", "Controller", "Payroll Specialist"}, "Finance Manager", "CC-3100"},
	{"Human Resources", 3, false, []string{"HR Generalist", "Recruiter", "Senior Recruiter", "HR Business Partner"}, "HR Manager", "CC-3200"},
	{"Legal", 2, false, []string{"Legal Counsel", "Senior Legal Counsel", "Paralegal", "Compliance Officer"}, "General Counsel", "CC-3300"},
	{"IT", 5, false, []string{"Systems Administrator", "Senior Systems Administrator", "Helpdesk Technician", "Security Analyst", "Network Engineer"}, "IT Manager", "CC-3400"},
	{"Customer Support", 9, false, []string{"Support Engineer", "Senior Support Engineer", "Customer Success Manager", "Support Agent"}, "Support Manager", "CC-4100"},
	{"Operations", 6, false, []string{"Operations Analyst", "Project Manager", "Senior Project Manager", "Facilities Coordinator"}, "Operations Manager", "CC-4200"},
	{"Procurement", 2, false, []string{"Buyer", "Senior Buyer", "Procurement Specialist"}, "Procurement Manager", "CC-4300"},
	{"Retail", 12, true, []string{"Store Associate", "Cashier", "Senior Store Associate", "Visual Merchandiser"}, "Store Manager", "CC-5100"},
	{"Manufacturing", 7, true, []string{"Machine Operator", "Production Technician", "Quality Inspector", "Senior Technician"}, "Plant Supervisor", "CC-5200"},
	{"Logistics", 5, true, []string{"Warehouse Associate", "Driver", "Dispatcher", "Inventory Specialist"}, "Warehouse Manager", "CC-5300"},
}

type country struct {
	name, code, lang string
	cities           []string
	phone            string
	weight           int
}

var countries = []country{
	{"United States", "US", "en-US", []string{"Seattle", "New York", "Chicago", "Austin", "Atlanta"}, "+1 425 555 ", 30},
	{"Germany", "DE", "de-DE", []string{"Berlin", "Munich", "Hamburg", "Frankfurt"}, "+49 30 5550 ", 14},
	{"United Kingdom", "GB", "en-GB", []string{"London", "Manchester", "Edinburgh"}, "+44 20 7946 ", 12},
	{"France", "FR", "fr-FR", []string{"Paris", "Lyon", "Toulouse"}, "+33 1 5550 ", 8},
	{"Netherlands", "NL", "nl-NL", []string{"Amsterdam", "Rotterdam", "Utrecht"}, "+31 20 555 ", 6},
	{"India", "IN", "en-IN", []string{"Bengaluru", "Pune", "Hyderabad"}, "+91 80 5550 ", 10},
	{"Canada", "CA", "en-CA", []string{"Toronto", "Vancouver", "Montreal"}, "+1 416 555 ", 6},
	{"Japan", "JP", "ja-JP", []string{"Tokyo", "Osaka"}, "+81 3 5550 ", 4},
	{"Brazil", "BR", "pt-BR", []string{"São Paulo", "Rio de Janeiro"}, "+55 11 5550 ", 4},
	{"Australia", "AU", "en-AU", []string{"Sydney", "Melbourne"}, "+61 2 5550 ", 3},
	{"Spain", "ES", "es-ES", []string{"Madrid", "Barcelona"}, "+34 91 555 ", 2},
	{"Poland", "PL", "pl-PL", []string{"Warsaw", "Kraków"}, "+48 22 555 ", 1},
}

var teamWords = []string{
	"Apollo", "Atlas", "Aurora", "Beacon", "Cobalt", "Comet", "Delta", "Echo", "Falcon", "Gemini",
	"Harbor", "Helix", "Horizon", "Jade", "Kestrel", "Lumen", "Meridian", "Nova", "Orion", "Phoenix",
	"Polaris", "Quartz", "Raven", "Sierra", "Summit", "Titan", "Vector", "Vertex", "Zenith", "Zephyr",
}

var teamKinds = []string{"Project", "Team", "Workstream", "Committee", "Community", "Squad", "Taskforce", "Guild"}
