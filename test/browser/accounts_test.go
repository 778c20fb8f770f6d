package browser

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// Accounts in a real browser: the first admin's one-time password leads
// only to the password page, even when they type another address, until
// they choose their own; the admin adds an analyst in the console, whose
// generated password (shown once) must be changed the same way; a reset
// password ends the old one; a disabled analyst cannot sign in; and every
// step is in the audit log.
func TestAccountsInBrowser(t *testing.T) {
	dir := t.TempDir()
	_, hs, _ := collectorHTTP(t, dir)
	ctx := browser(t)
	admin, oneTime := oneTimeAdmin(t, dir)
	const adminOwn, anaOwn = "a long secret of my own", "a secret of her own"

	var path string
	run(t, ctx, "signing in with the one-time password",
		signIn(hs.URL, admin, oneTime),
		chromedp.WaitVisible("#must-change", chromedp.ByID),
		chromedp.Navigate(hs.URL+"/alerts?status=open"),
		chromedp.WaitVisible("#must-change", chromedp.ByID),
		chromedp.Evaluate(`location.pathname`, &path))
	if path != "/account/password" {
		t.Errorf("with a one-time password, /alerts leads to %s", path)
	}
	var text string
	run(t, ctx, "changing it with a wrong current password",
		chromedp.SetValue("#current", oneTime+"x", chromedp.ByID),
		chromedp.SetValue("#new", adminOwn, chromedp.ByID),
		chromedp.SetValue("#repeat", adminOwn, chromedp.ByID),
		chromedp.Click("#change", chromedp.ByID),
		chromedp.WaitVisible("#password-error", chromedp.ByID),
		chromedp.Text("#password-error", &text, chromedp.ByID))
	if !strings.Contains(text, "current password is wrong") {
		t.Errorf("a wrong current password: the page says %q", text)
	}
	changePassword := func(current, next string) chromedp.Tasks {
		return chromedp.Tasks{
			chromedp.WaitVisible("#must-change", chromedp.ByID),
			chromedp.SetValue("#current", current, chromedp.ByID),
			chromedp.SetValue("#new", next, chromedp.ByID),
			chromedp.SetValue("#repeat", next, chromedp.ByID),
			chromedp.Click("#change", chromedp.ByID),
			chromedp.WaitVisible(`tr[data-id="al-old"]`),
		}
	}
	var issued string
	run(t, ctx, "choosing a password and adding an analyst",
		changePassword(oneTime, adminOwn),
		chromedp.Click(`nav a[href="/admin/users"]`),
		chromedp.WaitVisible("#new-name", chromedp.ByID),
		chromedp.SetValue("#new-name", "ana", chromedp.ByID),
		chromedp.SetValue("#new-role", "analyst", chromedp.ByID),
		chromedp.Click("#add-user", chromedp.ByID),
		chromedp.WaitVisible("#issued-password", chromedp.ByID),
		chromedp.Text("#issued-password", &issued, chromedp.ByID),
		chromedp.Text(`tr.user[data-name="ana"] .state`, &text))
	if len(issued) < 20 || text != "must change password" {
		t.Errorf("ana added with password %q, state %q", issued, text)
	}

	var links int
	run(t, ctx, "signing in as the analyst, who must choose a password",
		chromedp.Click(`header button`),
		chromedp.WaitVisible("#name", chromedp.ByID),
		signIn(hs.URL, "ana", issued),
		changePassword(issued, anaOwn),
		chromedp.Evaluate(`document.querySelectorAll('a[href="/admin/users"]').length`, &links),
		chromedp.Navigate(hs.URL+"/admin/users"),
		chromedp.Text("body", &text))
	if links != 0 || !strings.Contains(text, "user ana has role analyst; this needs admin") {
		t.Errorf("an analyst sees %d links to Users and at /admin/users %q", links, text)
	}

	run(t, ctx, "the admin resets ana's password, then disables her",
		chromedp.Navigate(hs.URL+"/alerts"),
		chromedp.Click(`header button`),
		chromedp.WaitVisible("#name", chromedp.ByID),
		signIn(hs.URL, admin, adminOwn),
		chromedp.WaitVisible(`tr[data-id="al-old"]`),
		chromedp.Navigate(hs.URL+"/admin/users"),
		chromedp.Click(`tr.user[data-name="ana"] button.reset`),
		chromedp.WaitVisible("#issued-password", chromedp.ByID),
		chromedp.Click(`tr.user[data-name="ana"] button.disable`),
		chromedp.WaitVisible(`tr.user[data-name="ana"] button.enable`),
		chromedp.Navigate(hs.URL+"/admin/audit"),
		chromedp.Text("#audit", &text, chromedp.ByID))
	for _, want := range []string{"user_create", "user_reset", "user_disable", "password_change_failed", "password_change"} {
		if !strings.Contains(text, want) {
			t.Errorf("the audit log lacks %s:\n%s", want, text)
		}
	}
	run(t, ctx, "ana, disabled, cannot sign in with her password",
		chromedp.Navigate(hs.URL+"/alerts"),
		chromedp.Click(`header button`),
		chromedp.WaitVisible("#name", chromedp.ByID),
		signIn(hs.URL, "ana", anaOwn),
		chromedp.WaitVisible("#login-error", chromedp.ByID))
}
