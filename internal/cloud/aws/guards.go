package aws

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/snapwatch/snapwatch/internal/inventory"
)

// readGuards reads the region's AMI Block Public Access and EBS encryption by default with
// its key (snapshot BPA was read by the probe). A guard that cannot be read is left out and
// reported, never written as "off".
func (s *scope) readGuards(ctx context.Context) {
	if out, err := s.ec2.GetImageBlockPublicAccessState(ctx, &ec2.GetImageBlockPublicAccessStateInput{}); err != nil {
		s.fail("ec2:GetImageBlockPublicAccessState", err)
	} else {
		st := derefOr(out.ImageBlockPublicAccessState, "")
		s.addGuard(inventory.Guard{Kind: inventory.GuardImageBPA, State: st, ManagedBy: string(out.ManagedBy)})
	}
	ebd, err := s.ec2.GetEbsEncryptionByDefault(ctx, &ec2.GetEbsEncryptionByDefaultInput{})
	if err != nil {
		s.fail("ec2:GetEbsEncryptionByDefault", err)
		return
	}
	g := inventory.Guard{Kind: inventory.GuardEncryptionByDefault, State: inventory.StateDisabled}
	if ebd.EbsEncryptionByDefault != nil && *ebd.EbsEncryptionByDefault {
		g.State = inventory.StateEnabled
	}
	// The default key matters only while encryption by default is on, but it is read either
	// way: it is what the next "enable" would use.
	if k, err := s.ec2.GetEbsDefaultKmsKeyId(ctx, &ec2.GetEbsDefaultKmsKeyIdInput{}); err != nil {
		s.fail("ec2:GetEbsDefaultKmsKeyId", err)
	} else {
		g.KeyID = derefOr(k.KmsKeyId, "")
	}
	s.mu.Lock()
	s.ebd = &g
	s.mu.Unlock()
}

// finishGuards sets the default key's kind once the region's keys are known.
func (s *scope) finishGuards() {
	if s.ebd == nil {
		return
	}
	g := *s.ebd
	if g.KeyID != "" {
		g.KeyKind = s.keys.kind(g.KeyID)
		if g.KeyKind == "" && strings.HasPrefix(g.KeyID, "alias/") {
			g.KeyKind = inventory.KeyCustomerManaged // an alias not under alias/aws/ is a customer's
		}
	}
	s.addGuard(g)
}

func derefOr(p *string, def string) string {
	if p == nil {
		return def
	}
	return *p
}
