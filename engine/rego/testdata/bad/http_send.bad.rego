# METADATA
# title: Bad rule
# custom:
#   id: 11111111-2222-4333-8444-555555555555
#   level: high
package detect.rules.http

alert contains msg if {
	resp := http.send({"method": "GET", "url": concat("", ["https://rep.example/", input.sender_domain])})
	resp.body.bad
	msg := "reputation"
}
