package main

import (
	"fmt"
	"os"

	"afimport/readers"
)

func init() {
	if os.Getenv("EST") != "" {
		m, err := readers.EstimateParquetMemory(os.Getenv("EST"), nil)
		fmt.Printf("%+v %v\n", m, err)
		os.Exit(0)
	}
}
