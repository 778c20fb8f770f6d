package auth

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrWrongPassword is returned when the current password given to change
// it is not the user's.
var ErrWrongPassword = errors.New("the current password is wrong")

// checkStrength refuses a password too short to resist guessing, or one
// that is the user's name.
func checkStrength(name, password string) error {
	if len([]rune(password)) < minPasswordChars {
		return fmt.Errorf("user %s: a password needs at least %d characters", name, minPasswordChars)
	}
	if strings.Contains(strings.ToLower(password), strings.ToLower(name)) && len(name) >= 3 {
		return fmt.Errorf("user %s: a password may not contain the user's name", name)
	}
	return nil
}

// ChangePassword sets name's password to next if current is their
// password now, and lifts MustChange.
func (u *Users) ChangePassword(name, current, next string) error {
	if _, ok := u.Check(name, current); !ok {
		return ErrWrongPassword
	}
	if current == next {
		return fmt.Errorf("user %s: the new password must differ from the current one", name)
	}
	if err := checkStrength(name, next); err != nil {
		return err
	}
	hash, err := HashPassword(next)
	if err != nil {
		return err
	}
	return u.edit(name, func(x *User) error {
		x.Hash, x.MustChange = hash, false
		return nil
	})
}

// Reset gives name a new random password, which they must change at their
// next sign-in, and returns it.
func (u *Users) Reset(name string) (string, error) {
	pw, err := RandomPassword()
	if err != nil {
		return "", fmt.Errorf("making a password for %s: %w", name, err)
	}
	hash, err := HashPassword(pw)
	if err != nil {
		return "", err
	}
	err = u.edit(name, func(x *User) error {
		x.Hash, x.MustChange = hash, true
		return nil
	})
	if err != nil {
		return "", err
	}
	return pw, nil
}

// SetDisabled disables or enables name.
func (u *Users) SetDisabled(name string, disabled bool) error {
	return u.edit(name, func(x *User) error {
		x.Disabled = disabled
		return nil
	})
}

// edit changes the user named name with f.
func (u *Users) edit(name string, f func(*User) error) error {
	return u.update(func(list []User) ([]User, error) {
		i := slices.IndexFunc(list, func(x User) bool { return x.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("no user is named %q", name)
		}
		if err := f(&list[i]); err != nil {
			return nil, err
		}
		return list, nil
	})
}
