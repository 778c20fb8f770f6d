package auth

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// Files in the data directory for people.
const (
	UsersFile        = "users.json"    // people, their roles and password hashes
	FirstAdminFile   = "console-admin" // the first admin's name and password, mode 0600
	FirstAdminName   = "admin"
	minPasswordChars = 12
)

// PeopleRoles are the roles a person may have: metrics is for scrapers.
var PeopleRoles = []string{RoleAnalyst, RoleAdmin}

// User is a person who signs in to the console, as stored.
type User struct {
	Name    string    `json:"name"`
	Role    string    `json:"role"`
	Hash    string    `json:"argon2id"`
	Created time.Time `json:"created"`
	// MustChange is set while the password is one someone else chose or
	// read (the first admin's, a generated one, an admin's reset): the
	// console lets its holder do nothing but change it.
	MustChange bool `json:"must_change,omitempty"`
	// Disabled keeps the user from signing in and ends their sessions at
	// their next request, keeping their name in the audit log's history.
	Disabled bool `json:"disabled,omitempty"`
}

// Users holds the people of a data directory, in UsersFile; every call
// reads the file, so a user added or removed by another process counts at
// once.
type Users struct {
	path  string
	mu    sync.Mutex // serialises this process's updates
	dummy string     // a hash to check unknown names against, so they take as long

	// The file as last parsed, and its bytes: every console request looks
	// its user up, and the file changes only when users are managed.
	cacheMu sync.Mutex
	cached  []User
	raw     []byte
}

// OpenUsers reads the users of dir, making a first admin with a random
// password (written to FirstAdminFile) when there are none, so a new
// console is never open to anyone.
func OpenUsers(dir string) (*Users, error) {
	u := &Users{path: filepath.Join(dir, UsersFile)}
	dummy, err := HashPassword("no such user")
	if err != nil {
		return nil, err
	}
	u.dummy = dummy
	list, err := u.read()
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		pw, err := u.Add(FirstAdminName, RoleAdmin, "")
		if err != nil {
			return nil, err
		}
		text := fmt.Sprintf("user: %s\npassword: %s\n", FirstAdminName, pw)
		if err := writeFile(filepath.Join(dir, FirstAdminFile), []byte(text), 0o600); err != nil {
			return nil, fmt.Errorf("saving the first admin's password: %w", err)
		}
	}
	return u, nil
}

// RandomPassword returns a password of 20 characters from an alphabet
// without look-alikes (about 115 bits).
func RandomPassword() (string, error) {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	raw := make([]byte, 20)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	for i, b := range raw {
		raw[i] = alphabet[int(b)%len(alphabet)]
	}
	return string(raw), nil
}

// Add makes a user with role and password ("" makes a random one, which
// its holder must change at first sign-in) and returns the password, which
// is not kept.
func (u *Users) Add(name, role, password string) (string, error) {
	mustChange := password == ""
	if !validName.MatchString(name) {
		return "", fmt.Errorf("user name %q: use letters, digits, '.', '_', '@' or '-', at most 64", name)
	}
	if !slices.Contains(PeopleRoles, role) {
		return "", fmt.Errorf("user %s: role %q: want one of %v", name, role, PeopleRoles)
	}
	if mustChange {
		var err error
		if password, err = RandomPassword(); err != nil {
			return "", fmt.Errorf("making a password for %s: %w", name, err)
		}
	}
	if err := checkStrength(name, password); err != nil {
		return "", err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return "", err
	}
	err = u.update(func(list []User) ([]User, error) {
		if slices.ContainsFunc(list, func(x User) bool { return x.Name == name }) {
			return nil, fmt.Errorf("a user named %q exists: remove them first", name)
		}
		return append(list, User{Name: name, Role: role, Hash: hash, Created: time.Now().UTC(), MustChange: mustChange}), nil
	})
	if err != nil {
		return "", err
	}
	return password, nil
}

// Remove removes the user named name; their sessions end at their next
// request.
func (u *Users) Remove(name string) error {
	return u.update(func(list []User) ([]User, error) {
		i := slices.IndexFunc(list, func(x User) bool { return x.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("no user is named %q", name)
		}
		return slices.Delete(list, i, i+1), nil
	})
}

// List returns the users.
func (u *Users) List() ([]User, error) { return u.current() }

// Lookup returns the user named name, if there is one.
func (u *Users) Lookup(name string) (User, bool) {
	list, err := u.current()
	if err != nil {
		return User{}, false
	}
	i := slices.IndexFunc(list, func(x User) bool { return x.Name == name })
	if i < 0 {
		return User{}, false
	}
	return list[i], true
}

// Check returns the user name and password sign in as; an unknown name
// costs as much as a wrong password, so timing does not tell which. A
// disabled user is refused like a wrong password.
func (u *Users) Check(name, password string) (User, bool) {
	usr, known := u.Lookup(name)
	hash := u.dummy
	if known {
		hash = usr.Hash
	}
	ok, err := CheckPassword(hash, password)
	if err != nil || !ok || !known || usr.Disabled {
		return User{}, false
	}
	return usr, true
}

// current returns the users, parsed again only when the file's bytes
// changed (by this process or another: vigil-collector user runs apart);
// a file's times are too coarse to tell two quick rewrites apart.
func (u *Users) current() ([]User, error) {
	b, err := os.ReadFile(u.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading users: %w", err)
	}
	u.cacheMu.Lock()
	defer u.cacheMu.Unlock()
	if u.raw != nil && bytes.Equal(b, u.raw) {
		return slices.Clone(u.cached), nil
	}
	list, err := u.parse(b)
	if err != nil {
		return nil, err
	}
	u.cached, u.raw = list, b
	return slices.Clone(list), nil
}

func (u *Users) read() ([]User, error) {
	b, err := os.ReadFile(u.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading users: %w", err)
	}
	return u.parse(b)
}

func (u *Users) parse(b []byte) ([]User, error) {
	var list []User
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("reading users %s: %w", u.path, err)
	}
	return list, nil
}

func (u *Users) update(f func([]User) ([]User, error)) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	list, err := u.read()
	if err != nil {
		return err
	}
	if list, err = f(list); err != nil {
		return err
	}
	b, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFile(u.path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("saving users: %w", err)
	}
	return nil
}
