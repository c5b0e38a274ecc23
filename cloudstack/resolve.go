package cloudstack

import (
	"fmt"
	"sort"
	"strings"

	csapi "github.com/apache/cloudstack-go/v2/cloudstack"
)

// osTypePageSize is the page size for listing every OS type (recent CloudStack versions have
// several hundred).
const osTypePageSize = 500

// resolveOSType finds the OS type whose description is name. listOsTypes' "description" parameter
// is a substring match (GuestOSDaoImpl.listGuestOSByCriteria: displayName LIKE %description%), so the
// exact match is picked here, first case-sensitively, then ignoring case.
func (s *session) resolveOSType(name string) (*csapi.OsType, error) {
	name = strings.TrimSpace(name)
	what := fmt.Sprintf("resolve OS type %q", name)
	p := s.cs.GuestOS.NewListOsTypesParams()
	if csapi.IsID(name) {
		p.SetId(name)
	} else {
		p.SetDescription(name)
	}
	r, err := s.cs.GuestOS.ListOsTypes(p)
	if err != nil {
		return nil, s.fail("listOsTypes", err, what)
	}
	if t := pickOSType(r.OsTypes, name); t != nil {
		return t, nil
	}
	all, err := s.listAllOSTypes()
	if err != nil {
		return nil, s.fail("listOsTypes", err, what)
	}
	if t := pickOSType(all, name); t != nil { // a server that ignores "description"
		return t, nil
	}
	descs := make([]string, 0, len(all))
	for _, t := range all {
		descs = append(descs, t.Description)
	}
	msg := fmt.Sprintf("unknown CloudStack OS type %q", name)
	if close := closeMatches(name, descs, 5); len(close) > 0 {
		msg += ": closest OS types are " + quoteList(close)
	} else {
		msg += fmt.Sprintf(": none of the %d OS types is close; list them with listOsTypes", len(descs))
	}
	return nil, &Error{Kind: ErrUnknownOSType, Command: "listOsTypes", msg: msg}
}

func pickOSType(types []*csapi.OsType, name string) *csapi.OsType {
	for _, t := range types {
		if t.Description == name || t.Id == name {
			return t
		}
	}
	var found *csapi.OsType
	for _, t := range types {
		if strings.EqualFold(t.Description, name) {
			if found != nil {
				return nil // ambiguous without exact case
			}
			found = t
		}
	}
	return found
}

func (s *session) listAllOSTypes() ([]*csapi.OsType, error) {
	var all []*csapi.OsType
	for page := 1; ; page++ {
		p := s.cs.GuestOS.NewListOsTypesParams()
		p.SetPage(page)
		p.SetPagesize(osTypePageSize)
		r, err := s.cs.GuestOS.ListOsTypes(p)
		if err != nil {
			return nil, err
		}
		all = append(all, r.OsTypes...)
		if len(r.OsTypes) < osTypePageSize || (r.Count > 0 && len(all) >= r.Count) {
			return all, nil
		}
	}
}

// resolveZone finds the zone by ID or name among the zones the account may use. available=true makes
// listZones return every zone the account can deploy in, not only those where it already has VMs.
func (s *session) resolveZone(zone string) (*csapi.Zone, error) {
	zone = strings.TrimSpace(zone)
	p := s.cs.Zone.NewListZonesParams()
	p.SetAvailable(true)
	r, err := s.cs.Zone.ListZones(p)
	if err != nil {
		return nil, s.fail("listZones", err, fmt.Sprintf("resolve zone %q", zone))
	}
	for _, z := range r.Zones {
		if z.Id == zone || z.Name == zone {
			return z, nil
		}
	}
	var found *csapi.Zone
	for _, z := range r.Zones {
		if strings.EqualFold(z.Name, zone) {
			if found != nil {
				found = nil
				break
			}
			found = z
		}
	}
	if found != nil {
		return found, nil
	}
	if len(r.Zones) == 0 {
		return nil, &Error{Kind: ErrUnknownZone, Command: "listZones",
			msg: fmt.Sprintf("unknown CloudStack zone %q: the account sees no zones at all", zone)}
	}
	names := make([]string, 0, len(r.Zones))
	for _, z := range r.Zones {
		names = append(names, fmt.Sprintf("%q (id %s)", z.Name, z.Id))
	}
	sort.Strings(names)
	return nil, &Error{Kind: ErrUnknownZone, Command: "listZones",
		msg: fmt.Sprintf("unknown CloudStack zone %q: available zones are %s", zone, strings.Join(names, ", "))}
}

// closeMatches returns up to n candidates nearest to name (fewest edits between the lower-cased
// strings) among those that contain name's first word ("debian" in "Debian GNU/Linux 13 (64-bit)"),
// or, failing that, another distinctive word of it.
func closeMatches(name string, candidates []string, n int) []string {
	words := strings.FieldsFunc(strings.ToLower(name), func(r rune) bool { return !isAlnum(r) })
	if len(words) == 0 {
		return nil
	}
	pick := func(keep func(lc string) bool) []string {
		type scored struct {
			s    string
			dist int
		}
		var list []scored
		for _, c := range candidates {
			if lc := strings.ToLower(c); keep(lc) {
				list = append(list, scored{c, levenshtein(strings.ToLower(name), lc)})
			}
		}
		sort.SliceStable(list, func(i, j int) bool { return list[i].dist < list[j].dist })
		var out []string
		for i := 0; i < len(list) && i < n; i++ {
			out = append(out, list[i].s)
		}
		return out
	}
	if out := pick(func(lc string) bool { return strings.Contains(lc, words[0]) }); len(out) > 0 {
		return out
	}
	generic := map[string]bool{"bit": true, "gnu": true, "linux": true, "lts": true, "server": true, "edition": true, "other": true}
	return pick(func(lc string) bool {
		for _, w := range words[1:] {
			if len(w) > 2 && !generic[w] && strings.Contains(lc, w) {
				return true
			}
		}
		return false
	})
}

func isAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= '0' && r <= '9'
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
