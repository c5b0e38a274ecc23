package monitor

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/cloudstack-templates/cloudstack-templates/artifacts"
)

// File names ReadRecords picks up. The pipeline writes metadata.json; the GitLab publish job renames
// it to <os>.metadata.json, so both spellings are read (and likewise for records).
const (
	metadataFileName = "metadata.json"
	recordFileName   = "record.json"
)

// ReadRecords walks dir and reads every metadata.json / <name>.metadata.json (as a success record;
// the document must pass artifacts.DecodeMetadata) and every record.json / <name>.record.json (a
// Record that must pass Validate). A file that cannot be read or is invalid is skipped and reported
// in the errors, each naming the file, so one bad file does not hide the others. The same build found
// twice (same OS, start and finish, e.g. a metadata.json and its published copy) is kept once,
// preferring the record.json, which knows more (stage outcomes, ISO cache). Records are sorted by
// StartedAt, then OS.
func ReadRecords(dir string) ([]Record, []error) {
	type found struct {
		rec      Record
		isRecord bool
	}
	var (
		all  []found
		errs []error
	)
	walkErr := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			// Unreadable entries are reported and skipped; the rest of the tree is still read.
			errs = append(errs, err)
			return nil
		}
		if d.IsDir() {
			return nil
		}
		base := d.Name()
		switch {
		case base == metadataFileName || strings.HasSuffix(base, "."+metadataFileName):
			r, err := readMetadataRecord(path)
			if err != nil {
				errs = append(errs, err)
				return nil
			}
			all = append(all, found{rec: r})
		case base == recordFileName || strings.HasSuffix(base, "."+recordFileName):
			r, err := readRecordFile(path)
			if err != nil {
				errs = append(errs, err)
				return nil
			}
			all = append(all, found{rec: r, isRecord: true})
		}
		return nil
	})
	if walkErr != nil {
		errs = append(errs, walkErr)
	}

	type key struct {
		os                string
		started, finished int64
	}
	at := map[key]int{}
	var recs []Record
	for _, f := range all {
		k := key{f.rec.OS, f.rec.StartedAt.UnixNano(), f.rec.FinishedAt.UnixNano()}
		if i, dup := at[k]; dup {
			if f.isRecord && recs[i].Outcome == OutcomeSuccess && f.rec.Outcome == OutcomeSuccess {
				recs[i] = f.rec
			}
			continue
		}
		at[k] = len(recs)
		recs = append(recs, f.rec)
	}
	sortRecords(recs)
	return recs, errs
}

// sortRecords orders by start time, then OS, then finish, which is the order every report reads in.
func sortRecords(recs []Record) {
	sort.SliceStable(recs, func(i, j int) bool {
		a, b := recs[i], recs[j]
		if !a.StartedAt.Equal(b.StartedAt) {
			return a.StartedAt.Before(b.StartedAt)
		}
		if a.OS != b.OS {
			return a.OS < b.OS
		}
		return a.FinishedAt.Before(b.FinishedAt)
	})
}

func readMetadataRecord(path string) (Record, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Record{}, err
	}
	md, err := artifacts.DecodeMetadata(data)
	if err != nil {
		return Record{}, fmt.Errorf("%s: %w", path, err)
	}
	r := FromMetadata(md)
	if err := Validate(r); err != nil {
		return Record{}, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

func readRecordFile(path string) (Record, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Record{}, err
	}
	r, err := decodeRecord(data)
	if err != nil {
		return Record{}, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// decodeRecord is strict (unknown fields, trailing data and invalid records are errors) for the same
// reason DecodeMetadata is: a misspelt field would otherwise read as "unknown" silently.
func decodeRecord(data []byte) (Record, error) {
	var r Record
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return Record{}, fmt.Errorf("record: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Record{}, errors.New("record: trailing data after the JSON object")
	}
	if err := Validate(r); err != nil {
		return Record{}, err
	}
	return r, nil
}
