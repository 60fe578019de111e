// Package calendar parses iCalendar (RFC 5545) files and feeds and expands the busy periods they hold.
//
// The caller fetches the bytes; Parse reads them once, and Busy expands the
// events overlapping a window, for a tenant's zone, as many times as
// needed. Neither does I/O beyond loading zones from the system's tz
// database, nor starts goroutines. Parsing uses github.com/emersion/go-ical,
// behind a line-numbered check of its input; recurrences are expanded by
// github.com/teambition/rrule-go.
//
// # What is busy
//
// Each VEVENT instance with a positive length is a busy period:
//   - DTSTART with DTEND, or with DURATION (days in it are calendar days);
//     DTSTART alone is an instant, never busy, unless it is a date, which
//     lasts one day.
//   - RRULE (DAILY, WEEKLY, MONTHLY, YEARLY, with INTERVAL, COUNT, UNTIL and
//     the BY* parts), RDATE (dates, date-times or periods) and EXDATE. DTSTART
//     is always the first instance. Instances keep their wall-clock time
//     across DST changes: a weekly 09:00 Europe/Rome meeting stays at 09:00.
//   - RECURRENCE-ID overrides replace the instance they name, matched by UID;
//     an override that is cancelled or transparent removes it.
//     RANGE=THISANDFUTURE is read as a single instance.
//
// Ignored: events with TRANSP:TRANSPARENT, STATUS:CANCELLED or Outlook's
// X-MICROSOFT-CDO-BUSYSTATUS:FREE; events without DTSTART; VTODO,
// VJOURNAL, VFREEBUSY and VALARM; attendees' answers (a declined invitation
// is still busy: the file does not say whose calendar it is); unknown
// properties. Rules more frequent than daily, or with more than 24 times a
// day, are not expanded: only their DTSTART and RDATEs count.
//
// # Time zones
//
//   - A value ending in "Z" is UTC.
//   - TZID is read as a Windows zone name, as Outlook and Exchange write
//     ("W. Europe Standard Time" is Europe/Berlin, "Romance Standard Time"
//     Europe/Paris, "GMT Standard Time" Europe/London), as one of Outlook's
//     display names for Europe's zones, as an IANA name ("Europe/Rome"), as
//     an IANA name at the end of a prefixed TZID
//     ("/mozilla.org/20050126_1/Europe/Rome"), or through its VTIMEZONE's
//     X-LIC-LOCATION. A VTIMEZONE's own rules are never read.
//   - Floating times (no zone), dates (all-day events, which cover whole days
//     with DTEND exclusive) and TZIDs none of the above resolve are read in
//     the zone passed to Busy: the tenant's.
//
// Parse needs the tz database for IANA names: the binary should embed
// time/tzdata if the host may lack one.
package calendar
