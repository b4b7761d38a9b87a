package pool

import (
	"fmt"
)

func fmtInts(v []int) string { return fmt.Sprint(v) }
