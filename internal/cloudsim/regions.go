package cloudsim

// The commercial regions. AWS enables the first 17 in every account; the rest are opt-in. The
// simulator needs the full list because DescribeRegions(AllRegions=true) shows the opt-in ones
// as not-opted-in, and an audit must skip those rather than fail on them.
var defaultRegions = []string{
	"us-east-1", "us-east-2", "us-west-1", "us-west-2",
	"ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2",
	"ca-central-1", "eu-central-1", "eu-west-1", "eu-west-2", "eu-west-3", "eu-north-1", "sa-east-1",
}

var optInRegions = []string{
	"af-south-1", "ap-east-1", "ap-east-2", "ap-south-2", "ap-southeast-3", "ap-southeast-4",
	"ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ca-west-1", "eu-central-2", "eu-south-1",
	"eu-south-2", "il-central-1", "me-central-1", "me-south-1", "mx-central-1",
}

// DefaultRegions returns the 17 regions AWS enables by default, in a stable order.
func DefaultRegions() []string { return append([]string(nil), defaultRegions...) }

var regionOptIn = func() map[string]bool {
	m := map[string]bool{}
	for _, r := range defaultRegions {
		m[r] = false
	}
	for _, r := range optInRegions {
		m[r] = true
	}
	return m
}()

func knownRegion(r string) bool { _, ok := regionOptIn[r]; return ok }

func allRegions() []string { return append(append([]string(nil), defaultRegions...), optInRegions...) }
