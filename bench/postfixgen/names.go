package postfixgen

import (
	"math/rand/v2"
	"strconv"
)

// The site's own domains and the outside world, all under reserved names.
var (
	localDomains  = []string{"corp.example", "corp-mail.example"}
	remoteDomains = []string{
		"example.com", "example.net", "example.org", "partner.example", "vendor.example",
		"supplier.example", "lawfirm.example", "univ.example", "city.example", "agency.example",
		"freemail.example", "webmail.example", "isp.example", "telco.example", "hosting.example",
		"consult.example", "logistics.example", "media.example", "clinic.example", "school.example",
	}
	// Bulk senders take the top ranks of the Zipf law over senders.
	bulkSenders = []string{
		"newsletter@news.example", "noreply@shop.example", "notifications@social.example",
		"alerts@bank.example", "billing@vendor.example", "updates@saas.example",
		"no-reply@tickets.example", "digest@forum.example", "info@events.example",
		"service@delivery.example",
	}
	firstNames = []string{"anna", "ben", "carla", "david", "eva", "frank", "greta", "hugo", "ines",
		"jonas", "karin", "lars", "mia", "nils", "olga", "paul", "rita", "sven", "tina", "uwe",
		"vera", "walter", "xenia", "yusuf", "zoe"}
	lastNames = []string{"adams", "berger", "costa", "dietz", "engel", "fischer", "garcia",
		"hansen", "ivanova", "jung", "kraus", "lopez", "meyer", "novak", "olsen", "peters",
		"quinn", "roth", "schulz", "tanaka", "ulrich", "vogel", "weber", "young", "zimmer"}
	subjects = []string{
		"Re: meeting notes", "Invoice 2026-11", "Your order has shipped", "Weekly report",
		"Re: contract draft", "Fwd: travel booking", "Quarterly figures", "Lunch on Friday?",
		"Password expiry notice", "Re: Re: project timeline", "New login to your account",
		"Delivery notification", "Agenda for tomorrow", "Job application", "Re: quote request",
		"Your statement is ready", "Webinar invitation", "Support ticket updated",
		"=?UTF-8?B?QW5nZWJvdCBmw7xyIElocmUgQW5mcmFnZQ==?=", "=?UTF-8?Q?R=C3=BCckfrage_zur_Rechnung?=",
	}
	// Attachment names by kind; the shares of pickAttachment make most of
	// them harmless, with the odd one the attachment rules are about.
	commonAttachments = []string{"invoice.pdf", "report.docx", "figures.xlsx", "photo.jpg",
		"scan.pdf", "slides.pptx", "contract.pdf", "screenshot.png", "archive.zip", "invite.ics",
		"notes.txt", "statement.pdf"}
	riskyAttachments = []string{"Invoice_2026.pdf.exe", "setup.exe", "Document.iso", "update.js",
		"Order.docm", "payment.html", "shipping_label.lnk", "Budget.xlsm"}
)

const (
	numRemoteSenders = 40000
	numLocalUsers    = 3000
)

// person returns the local part "first.last" (with a number beyond the
// first combinations) of person n.
func person(n int) string {
	s := firstNames[n%len(firstNames)] + "." + lastNames[n/len(firstNames)%len(lastNames)]
	if k := n / (len(firstNames) * len(lastNames)); k > 0 {
		s += strconv.Itoa(k)
	}
	return s
}

// remoteAddress returns outside address n (rank n of the Zipf law).
func remoteAddress(n int) string {
	if n < len(bulkSenders) {
		return bulkSenders[n]
	}
	return person(n) + "@" + remoteDomains[(n*7+n/13)%len(remoteDomains)]
}

// localAddress returns the address of local user n.
func localAddress(n int) string {
	return person(n) + "@" + localDomains[n%7/6]
}

// domainOf returns the part of addr after the '@'.
func domainOf(addr string) string {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == '@' {
			return addr[i+1:]
		}
	}
	return addr
}

// mailServer returns the outbound server of an outside domain, one of a
// few per domain, with an address from the documentation ranges.
func mailServer(domain string, rng *rand.Rand) (name, ip string) {
	h := 0
	for i := 0; i < len(domain); i++ {
		h = h*31 + int(domain[i])
	}
	h &= 0x7fffffff
	k := rng.IntN(3)
	name = "mail" + strconv.Itoa(k+1) + "." + domain
	ip = []string{"198.51.100.", "203.0.113."}[h%2] + strconv.Itoa(1+(h/2+k*37)%250)
	return name, ip
}

// botIP returns a random address of the benchmarking block 198.18.0.0/15,
// where the spam bots and password guessers of the log live.
func botIP(rng *rand.Rand) string {
	n := rng.IntN(1 << 17)
	return "198." + strconv.Itoa(18+n>>16) + "." + strconv.Itoa(n>>8&255) + "." + strconv.Itoa(max(n&255, 1))
}

// workstation returns a host and address on the internal network.
func workstation(rng *rand.Rand) (name, ip string) {
	n := rng.IntN(400)
	return "ws" + strconv.Itoa(n) + ".corp.example", "10.20." + strconv.Itoa(n/200) + "." + strconv.Itoa(1+n%200)
}
