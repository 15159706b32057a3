package s2stest_test

import (
	"fmt"
	"net/http"
	"strings"

	"afimport/importer/s2stest"
)

func ExampleNewServer() {
	srv := s2stest.NewServer(s2stest.Config{
		Token:  "t0ken",
		Script: []s2stest.Step{{Status: 429, RetryAfter: "1"}}, // first try of each id is throttled
	})
	defer srv.Close()

	body := `{"user_id":{"customer_user_id":"u1"},"event_name":"af_purchase","customer_dedup_id":"r-1"}`
	for range 2 {
		req, _ := http.NewRequest("POST", srv.EventURL("website-www.example.com"), strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer t0ken")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		resp.Body.Close()
		fmt.Printf("%d Retry-After=%q\n", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	st := srv.Stats()
	fmt.Println(st.Accepted, st.DedupAccepted["r-1"], st.Duplicates())
	// Output:
	// 429 Retry-After="1"
	// 202 Retry-After=""
	// 1 1 []
}
