package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"

	// Formats register themselves with normalize.
	_ "github.com/detect-dev/detect/normalize/amavis"
	_ "github.com/detect-dev/detect/normalize/csvevents"
	_ "github.com/detect-dev/detect/normalize/exchange"
	_ "github.com/detect-dev/detect/normalize/exim"
	_ "github.com/detect-dev/detect/normalize/jsonevents"
	_ "github.com/detect-dev/detect/normalize/m365"
	_ "github.com/detect-dev/detect/normalize/postfix"
	_ "github.com/detect-dev/detect/normalize/sendmail"
	_ "github.com/detect-dev/detect/normalize/zeek"
)

// Exit codes (DESIGN.md section 6).
const (
	exitOK       = 0
	exitFindings = 1 // test or lint failures, or alerts with --fail-on-alert
	exitUsage    = 2 // bad usage, unreadable input, rules that do not compile
	// exitInterrupted follows the shell convention for SIGINT (128 + 2).
	exitInterrupted = 130
)

// env is the process state a command may touch; tests substitute it.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

func newApp(e *env) *cli.App {
	app := &cli.App{
		Name:  "detect",
		Usage: "detection-as-code for mail-server (SMTP) logs",
		Description: `detect normalizes mail logs (Postfix, Exim, Sendmail, Exchange, Microsoft 365,
Zeek, amavis, CSV/JSON exports) into one event schema and runs Sigma and Rego rules
over them. Rules are files you version, review and test like code.

Quick start:
   detect scan /var/log/mail.log              alerts from the embedded rule pack
   detect scan --out-format table /var/log/   every file under a directory, rotated
                                              and compressed ones included, oldest first
   detect normalize mail.log.1.gz | jq .      see the events rules match against`,
		Reader:    e.stdin,
		Writer:    e.stdout,
		ErrWriter: e.stderr,
		Commands: []*cli.Command{
			scanCommand(e),
			runCommand(e),
			normalizeCommand(e),
			testCommand(e),
			lintCommand(e),
			rulesCommand(e),
			diffCommand(e),
			queryCommand(e),
			reportCommand(e),
			genCommand(e),
		},
		// Errors are reported by run, with the exit code they carry.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			return usageError{fmt.Errorf("%w\nsee: detect --help", err)}
		},
		// Reached when the first argument is not a command.
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return failf(exitUsage, "unknown command %q; see: detect --help", c.Args().First())
			}
			return cli.ShowAppHelp(c)
		},
	}
	for _, cmd := range app.Commands {
		quietUsageErrors(cmd, "detect")
	}
	return app
}

// quietUsageErrors makes a bad flag an error message on stderr (exit 2)
// instead of urfave's default of printing the whole help to stdout, where it
// would end up in the pipe of whoever reads the alerts.
func quietUsageErrors(cmd *cli.Command, parent string) {
	path := parent + " " + cmd.Name
	cmd.HideHelpCommand = true
	if cmd.OnUsageError == nil {
		cmd.OnUsageError = func(c *cli.Context, err error, _ bool) error {
			return usageError{fmt.Errorf("%w\nsee: %s --help", err, path)}
		}
	}
	for _, sub := range cmd.Subcommands {
		quietUsageErrors(sub, path)
	}
}

// usageError marks errors that should exit 2.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

// exitError carries an exit code and an optional message.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}
func (e exitError) Unwrap() error { return e.err }

func failf(code int, format string, args ...any) error {
	return exitError{code: code, err: fmt.Errorf(format, args...)}
}

// run executes detect with args and returns the process exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	err := newApp(e).Run(args)
	if err == nil {
		return exitOK
	}
	var ee exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(stderr, "detect:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "detect:", err)
	return exitUsage
}

// isTerminal reports whether w is an interactive terminal. Being a
// character device is not enough (/dev/null is one): fileIsTerminal asks
// the terminal driver.
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && fileIsTerminal(f)
}
