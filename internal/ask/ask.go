// Package ask asks for boot variables on the console, the ANTS way: the prompt names
// the variable and shows, in brackets, the value Enter keeps; "clear" empties it,
// "sh" opens a shell and asks again when it exits. A bad answer is refused with the
// reason and asked again.
package ask

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ants/ants/internal/bootvar"
)

// ErrNoAnswer means the console gave end of file before an answer.
var ErrNoAnswer = errors.New("no answer: the console gave end of file")

// Asker asks on a console.
type Asker struct {
	In  io.Reader // read one byte at a time, so nothing typed ahead is lost
	Out io.Writer
	// Shell runs a shell on the console for the answer "sh"; nil refuses it.
	Shell  func() error
	helped bool
	lastCR bool // the last line ended in \r: a \n right after it is part of it
}

// Ask asks for name, offering offer, until it gets a valid answer. On end of input
// it returns the offer and ErrNoAnswer.
func (a *Asker) Ask(name, offer string) (string, error) {
	if !a.helped {
		fmt.Fprintf(a.Out, "(Enter keeps the value in brackets; 'clear' empties it; 'sh' opens a shell)\n")
		a.helped = true
	}
	for {
		fmt.Fprintf(a.Out, "%s [%s]: ", name, offer)
		line, err := a.readLine()
		if err != nil && line == "" {
			fmt.Fprintln(a.Out)
			return offer, ErrNoAnswer
		}
		ans := strings.TrimSpace(line)
		switch ans {
		case "":
			ans = offer
		case "clear":
			ans = ""
		case "sh":
			if a.Shell == nil {
				fmt.Fprintf(a.Out, "no shell here; answer with a value\n")
				continue
			}
			fmt.Fprintf(a.Out, "exit the shell to come back to %s\n", name)
			if err := a.Shell(); err != nil {
				fmt.Fprintf(a.Out, "shell: %v\n", err)
			}
			continue
		case bootvar.Ask:
			fmt.Fprintf(a.Out, "%s: 'ask' is not an answer; type a value\n", name)
			continue
		}
		if ans != "" {
			if err := bootvar.Validate(name, ans); err != nil {
				fmt.Fprintf(a.Out, "%s: %v; try again\n", name, err)
				continue
			}
		}
		return ans, nil
	}
}

// readLine reads up to a newline, one byte at a time. A line may end in \n, \r or
// \r\n; the \n of a \r\n is dropped at the start of the next line.
func (a *Asker) readLine() (string, error) {
	r := a.In
	var b strings.Builder
	var c [1]byte
	for {
		n, err := r.Read(c[:])
		if n == 1 {
			if c[0] == '\n' && b.Len() == 0 && a.lastCR {
				a.lastCR = false
				continue
			}
			a.lastCR = c[0] == '\r'
			if c[0] == '\n' || c[0] == '\r' {
				return b.String(), nil
			}
			b.WriteByte(c[0])
			continue
		}
		if err != nil {
			return b.String(), err
		}
	}
}
