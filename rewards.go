package gamify

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/gamifykit/gamify/points"
	"github.com/gamifykit/gamify/store"
)

// RewardType is what a reward gives.
type RewardType string

// The reward types.
const (
	// RewardCoupon gives a code: a loaded one, or a generated one.
	RewardCoupon RewardType = "coupon"
	// RewardVoucher gives a code: a loaded one, or a generated one.
	RewardVoucher RewardType = "voucher"
	// RewardPhysical is shipped: it gives a code only when codes are loaded.
	RewardPhysical RewardType = "physical"
	// RewardDigital gives a code: a loaded one, or a generated one.
	RewardDigital RewardType = "digital"
	// RewardPointsMultiplier gives the claiming user a boost of Multiplier
	// in System for Duration.
	RewardPointsMultiplier RewardType = "points_multiplier"
)

// Reward is something users claim, usually for points.
type Reward struct {
	// Key is immutable, [A-Za-z0-9_-]{1,64}. Create generates one when it is
	// empty: "gamify_" and 8 random lowercase hex digits.
	Key         string
	Name        string // display name, required
	Description string
	Type        RewardType // immutable
	// Cost is debited from the user's available points in System.
	Cost Amount
	// System is the points system Cost is paid in (immutable); required
	// when Cost is positive and for points_multiplier rewards.
	System string
	// PerUserLimit is how many times a user may claim it: default 1,
	// RewardUnlimited (-1) for no limit.
	PerUserLimit int
	// Inventory caps the claims of all users; 0 means unlimited (or, with
	// loaded codes, as many as there are codes). It cannot go below the
	// claims already made.
	Inventory int
	// Expires ends claiming; zero means never.
	Expires time.Time
	// Status is active (the default) or inactive on Create: an inactive
	// reward cannot be claimed (ErrConflict) but keeps its codes and claims
	// and can be patched. Activate, Deactivate and Delete (archived) change it.
	Status Status
	// Grants are given with each claim, in its command (see RewardGrants);
	// required for bundle rewards.
	Grants RewardGrants `json:",omitzero"`
	// Multiplier and Duration (points_multiplier rewards): a boost of
	// System for the claiming user, from the claim for Duration. In JSON
	// Duration is an integer of nanoseconds, as encoding/json writes any
	// time.Duration (90 minutes is 5400000000000).
	Multiplier Amount
	Duration   time.Duration
	Created    time.Time
	Updated    time.Time

	ref uint32
}

type storedReward struct {
	Reward
	Ref uint32 `json:"ref"`
}

// maxBoostDuration bounds the boost a claim grants: past it the boost's
// end would leave the years a time is stored in.
const maxBoostDuration = 100 * 365 * 24 * time.Hour

func checkBoostDuration(field string, d time.Duration) error {
	if d <= 0 || d > maxBoostDuration {
		return gamifytype.Invalid(field, d, "must be positive and at most 100 years")
	}
	return nil
}

// Validate reports every bad field of a reward. An empty Key is accepted:
// Create generates one.
func (r *Reward) Validate() error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if r.Key != "" {
		add(gamifytype.ValidateKey("Reward.Key", r.Key))
	}
	add(validateName("Reward", r.Name))
	add(gamifytype.CheckText("Reward.Description", r.Description, gamifytype.MaxTextLen))
	if r.System != "" {
		add(gamifytype.ValidateKey("Reward.System", r.System))
	}
	add(gamifytype.CheckTime("Reward.Expires", r.Expires))
	if r.Type != RewardPointsMultiplier {
		if !r.Multiplier.IsZero() {
			add(gamifytype.Invalid("Reward.Multiplier", r.Multiplier, "is for points_multiplier rewards only"))
		}
		if r.Duration != 0 {
			add(gamifytype.Invalid("Reward.Duration", r.Duration, "is for points_multiplier rewards only"))
		}
	}
	switch r.Type {
	case RewardCoupon, RewardVoucher, RewardPhysical, RewardDigital:
	case RewardBundle:
		if r.Grants.empty() {
			add(gamifytype.Invalid("Reward.Grants", "none", "a bundle must grant something"))
		}
	case RewardPointsMultiplier:
		if r.Multiplier.Sign() <= 0 || !r.Multiplier.Less(AmountFromInt(100)) || r.Multiplier == AmountFromInt(1) {
			add(gamifytype.Invalid("Reward.Multiplier", r.Multiplier, "must be in (0, 100) and not 1"))
		}
		add(checkBoostDuration("Reward.Duration", r.Duration))
	default:
		add(gamifytype.Invalid("Reward.Type", r.Type, "must be coupon, voucher, physical, digital, points_multiplier or bundle"))
	}
	if r.Cost.Sign() < 0 {
		add(gamifytype.Invalid("Reward.Cost", r.Cost, "must not be negative"))
	}
	if (r.Cost.Sign() > 0 || r.Type == RewardPointsMultiplier) && r.System == "" {
		add(gamifytype.Invalid("Reward.System", r.System, "must name the points system"))
	}
	if r.PerUserLimit < RewardUnlimited {
		add(gamifytype.Invalid("Reward.PerUserLimit", r.PerUserLimit, "must be positive, 0 (the default, 1) or RewardUnlimited (-1)"))
	}
	add(r.Grants.validate())
	if r.Inventory < 0 {
		add(gamifytype.Invalid("Reward.Inventory", r.Inventory, "must not be negative"))
	}
	return errors.Join(errs...)
}

const defReward = "reward/"

// RewardsAPI administers rewards and their codes, and claims them. Get it
// from Engine.Rewards.
type RewardsAPI struct{ e *Engine }

// Rewards returns the rewards API.
func (e *Engine) Rewards() RewardsAPI { return RewardsAPI{e} }

func (t *txn) putReward(r *Reward) {
	cat := t.catalogForWrite()
	cat.rewards[r.Key] = r
	t.putJSON(store.Definitions, []byte(defReward+r.Key), storedReward{Reward: *r, Ref: r.ref})
}

// errKeyTaken is a generated reward key already in use: the create is
// retried with another.
var errKeyTaken = errors.New("gamify: generated reward key in use")

// maxKeyAttempts bounds the draws of a generated reward key.
const maxKeyAttempts = 8

// newRewardKey draws a reward key: "gamify_" and 8 random lowercase hex
// digits. It is drawn before the command so the command is deterministic.
func (e *Engine) newRewardKey() string {
	if e.opts.rewardKey != nil {
		return e.opts.rewardKey()
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "gamify_" + hex.EncodeToString(b[:])
}

// Create defines a reward (PerUserLimit 0 becomes 1; an empty Key is
// generated). A key in use, even by an archived reward, is ErrConflict.
func (a RewardsAPI) Create(ctx context.Context, r Reward) (Reward, error) {
	if err := r.Validate(); err != nil {
		return Reward{}, err
	}
	generated := r.Key == ""
	for range maxKeyAttempts {
		d := r
		if generated {
			d.Key = a.e.newRewardKey()
		}
		raw, err := encodeDef(rewardDefs, &d)
		if err != nil {
			return Reward{}, fmt.Errorf("create reward %s: %w", d.Key, err)
		}
		v, err := a.e.exec(ctx, a.e.now(), createRewardOp.cmd(rewardCreateArgs{Def: raw, Generated: generated}))
		if errors.Is(err, errKeyTaken) {
			continue
		}
		if err != nil {
			return Reward{}, fmt.Errorf("create reward %s: %w", d.Key, err)
		}
		return v.(Reward), nil
	}
	return Reward{}, fmt.Errorf("create reward: %w: no free generated key in %d draws", ErrConflict, maxKeyAttempts)
}

type rewardCreateArgs struct {
	Def json.RawMessage
	// Generated says the engine drew the key: if it is taken, the command
	// fails with errKeyTaken and the caller draws again.
	Generated bool `json:",omitempty"`
}

// rewardBulkCreateArgs are the rewards of a BulkCreate; Generated[i] is
// rewardCreateArgs.Generated of Defs[i].
type rewardBulkCreateArgs struct {
	Defs      []json.RawMessage
	Generated []bool
}

var (
	createRewardOp = newOp("reward.create", func(t *txn, a rewardCreateArgs) (Reward, error) {
		var r Reward
		if err := json.Unmarshal(a.Def, &r); err != nil {
			return Reward{}, err
		}
		return t.createReward(r, a.Generated)
	})
	bulkCreateRewardsOp = newOp("reward.bulk_create", func(t *txn, a rewardBulkCreateArgs) (bulkResult[Reward], error) {
		if len(a.Generated) != len(a.Defs) {
			return bulkResult[Reward]{}, fmt.Errorf("gamify: %d rewards with %d generated flags", len(a.Defs), len(a.Generated))
		}
		res := bulkResult[Reward]{out: make([]Reward, len(a.Defs)), errs: make([]error, len(a.Defs))}
		for i, raw := range a.Defs {
			var r Reward
			if err := json.Unmarshal(raw, &r); err != nil {
				return bulkResult[Reward]{}, err
			}
			given := r
			if a.Generated[i] {
				given.Key = "" // validated as the caller gave it
			}
			err := given.Validate()
			if err == nil {
				r, err = t.createReward(r, a.Generated[i])
			}
			if errors.Is(err, errKeyTaken) {
				return bulkResult[Reward]{}, err // redrawn and retried
			}
			res.out[i], res.errs[i] = r, err
		}
		return res, nil
	})
)

// createReward creates a validated reward in the command.
func (t *txn) createReward(r Reward, generated bool) (Reward, error) {
	cat := t.catalogForWrite()
	if _, ok := cat.rewards[r.Key]; ok {
		if generated {
			return Reward{}, errKeyTaken
		}
		return Reward{}, fmt.Errorf("%w: reward %s exists", ErrConflict, r.Key)
	}
	switch r.Status {
	case "":
		r.Status = StatusActive
	case StatusActive, StatusInactive:
	default:
		return Reward{}, gamifytype.Invalid("Reward.Status", r.Status, "must be active (the default) or inactive")
	}
	if r.System != "" {
		if s, ok := cat.points.systems[r.System]; !ok || s.Status != StatusActive {
			return Reward{}, gamifytype.Invalid("Reward.System", r.System, "is not an active points system")
		}
	}
	if err := cat.checkGrantRefs(nil, &r); err != nil {
		return Reward{}, err
	}
	r.PerUserLimit = cmp.Or(r.PerUserLimit, 1)
	cat.lastRewardRef++
	r.ref = cat.lastRewardRef
	r.Created, r.Updated = stamp(t.now), stamp(t.now)
	t.putReward(&r)
	return r, nil
}

// Get returns a reward, archived or not, or ErrNotFound.
func (a RewardsAPI) Get(ctx context.Context, key string) (Reward, error) {
	return getDef(a.e, "reward", key, func(c *catalog) map[string]*Reward { return c.rewards })
}

// RewardListOptions pages rewards and filters them by type.
type RewardListOptions struct {
	ListOptions
	// Type lists only rewards of this type; "" lists every type.
	Type RewardType
}

// List returns rewards in creation order, inactive ones included (archived
// ones only with IncludeArchived), optionally of one type.
func (a RewardsAPI) List(ctx context.Context, opts RewardListOptions) ([]Reward, error) {
	switch opts.Type {
	case "", RewardCoupon, RewardVoucher, RewardPhysical, RewardDigital, RewardPointsMultiplier, RewardBundle:
	default:
		return nil, gamifytype.Invalid("RewardListOptions.Type", opts.Type, "must be empty, coupon, voucher, physical, digital, points_multiplier or bundle")
	}
	return listDefs(a.e, opts.ListOptions, func(c *catalog) map[string]*Reward { return c.rewards },
		func(r *Reward) bool {
			return (r.Status != StatusArchived || opts.IncludeArchived) && (opts.Type == "" || r.Type == opts.Type)
		},
		func(x, y *Reward) int { return cmp.Compare(x.ref, y.ref) })
}

// rewardDefs describes rewards for the shared admin verbs.
var rewardDefs = resource[Reward]{
	what: "reward", field: "Reward", kind: "reward", check: (*Reward).Validate,
	defs: func(c *catalog) map[string]*Reward { return c.rewards },
	clone: func(r Reward) Reward {
		r.Grants = r.Grants.clone()
		return r
	},
	owned: func(r *Reward) owned { return owned{r.Key, r.Status, r.Created, r.Updated, nil} },
	replace: func(t *txn, old *Reward, r Reward) (Reward, error) {
		errs := []error{r.Validate()}
		if r.Type != old.Type {
			errs = append(errs, gamifytype.Invalid("Reward.Type", r.Type, "is immutable"))
		}
		if r.System != old.System {
			errs = append(errs, gamifytype.Invalid("Reward.System", r.System, "is immutable"))
		}
		errs = append(errs, t.w.cat.checkGrantRefs(old, &r))
		if r.Inventory != old.Inventory && r.Inventory > 0 {
			if n := t.counter(rewardClaimedKey(r.Key)); uint64(r.Inventory) < n {
				errs = append(errs, gamifytype.Invalid("Reward.Inventory", r.Inventory, fmt.Sprintf("must not be below the %d claims made", n)))
			}
		}
		if err := errors.Join(errs...); err != nil {
			return Reward{}, err
		}
		r.PerUserLimit = cmp.Or(r.PerUserLimit, 1)
		r.ref, r.Updated = old.ref, stamp(t.now)
		t.putReward(&r)
		return r, nil
	},
}

// Patch changes a reward: edit gets a copy of the stored reward and sets the
// fields to change; the others are kept. Key, Status, Created and Updated
// are the engine's, Type and System are immutable (a change to one is a
// ValidationError), and Inventory cannot go below the claims made. Claims
// already made are kept. edit runs outside the writer and may run more than
// once if another write lands meanwhile, so it must only edit its argument.
func (a RewardsAPI) Patch(ctx context.Context, key string, edit func(*Reward)) (Reward, error) {
	return rewardDefs.patch(ctx, a.e, key, edit)
}

// Activate makes an inactive reward claimable again. Activating an active
// reward changes nothing.
func (a RewardsAPI) Activate(ctx context.Context, key string) (Reward, error) {
	return a.setStatus(ctx, key, StatusActive)
}

// Deactivate stops claims of a reward (Claim is ErrConflict) until it is
// activated again; it stays listed, its codes and claims are kept and it
// can be patched and given codes.
func (a RewardsAPI) Deactivate(ctx context.Context, key string) (Reward, error) {
	return a.setStatus(ctx, key, StatusInactive)
}

func (a RewardsAPI) setStatus(ctx context.Context, key string, to Status) (Reward, error) {
	return rewardDefs.setStatus(ctx, a.e, key, to)
}

func setRewardStatus(r *Reward, s Status, now time.Time) { r.Status, r.Updated = s, now }

// Delete archives a reward: it leaves lists, cannot be claimed (ErrNotFound)
// or given codes; users' claims are kept and the key is never reused.
func (a RewardsAPI) Delete(ctx context.Context, key string) error {
	if err := archiveDef(ctx, a.e, rewardDefs, key); err != nil {
		return fmt.Errorf("delete reward %s: %w", gamifytype.Quote(key), err)
	}
	return nil
}

func (t *txn) archiveReward(key string) error {
	old, ok := t.catalogForWrite().rewards[key]
	if !ok || old.Status == StatusArchived {
		return ErrNotFound
	}
	r := *old
	r.Status, r.Updated = StatusArchived, stamp(t.now)
	t.putReward(&r)
	return nil
}

// Rewards are created by their own ops (generated keys); create here is
// for a reward with its key given.
var _ = registerKind("reward", kindOps[Reward]{
	of:     func(string) resource[Reward] { return rewardDefs },
	create: checkedCreate((*Reward).Validate, func(t *txn, r Reward) (Reward, error) { return t.createReward(r, false) }),
	status: func(t *txn, _, key string, to Status) (Reward, error) {
		return rewardDefs.restatus(t, key, to, setRewardStatus, (*txn).putReward)
	},
	archive: func(t *txn, _, key string) error { return t.archiveReward(key) },
})

// BulkCreate creates up to 100 rewards in one commit (as Create does for
// one). Items that fail are reported as issues and skipped; the others are
// created.
func (a RewardsAPI) BulkCreate(ctx context.Context, rs []Reward) ([]Reward, []Issue, error) {
	if err := checkBulk("Rewards", len(rs)); err != nil {
		return nil, nil, err
	}
	keys := make([]string, len(rs))
	for i := range rs {
		keys[i] = rs[i].Key
	}
	for range maxKeyAttempts {
		ds := slices.Clone(rs)
		for i := range ds {
			if ds[i].Key == "" {
				ds[i].Key = a.e.newRewardKey()
			}
		}
		raws, sent, errs := encodeDefs(rewardDefs, ds)
		out := make([]Reward, len(rs))
		if len(sent) > 0 {
			args := rewardBulkCreateArgs{Defs: raws, Generated: make([]bool, len(sent))}
			for j, i := range sent {
				args.Generated[j] = rs[i].Key == ""
			}
			v, err := a.e.exec(ctx, a.e.now(), bulkCreateRewardsOp.cmd(args))
			if errors.Is(err, errKeyTaken) {
				continue
			}
			if err != nil {
				return nil, nil, fmt.Errorf("bulk create rewards: %w", err)
			}
			spread(v.(bulkResult[Reward]), sent, out, errs)
		}
		return collect(keys, out, errs)
	}
	return nil, nil, fmt.Errorf("bulk create rewards: %w: no free generated keys in %d draws", ErrConflict, maxKeyAttempts)
}

// BulkPatch runs edit on up to 100 rewards in one commit (as Patch does for
// one), reporting failures per item; it returns the rewards it changed.
func (a RewardsAPI) BulkPatch(ctx context.Context, keys []string, edit func(*Reward)) ([]Reward, []Issue, error) {
	return rewardDefs.bulkPatch(ctx, a.e, keys, edit)
}

// BulkDelete archives up to 100 rewards in one commit, reporting failures
// per item.
func (a RewardsAPI) BulkDelete(ctx context.Context, keys []string) ([]Issue, error) {
	if err := checkBulk("Keys", len(keys)); err != nil {
		return nil, err
	}
	errs, err := archiveDefs(ctx, a.e, rewardDefs, keys)
	if err != nil {
		return nil, err
	}
	return keyIssues(keys, errs), nil
}

func codeKey(ref uint32, code string) []byte {
	return append(binary.BigEndian.AppendUint32(nil, ref), code...)
}

// AddCodes loads codes into a reward's inventory (up to 1000 per call), an
// inactive reward's too; codes already loaded or claimed are skipped. It
// returns how many were added.
func (a RewardsAPI) AddCodes(ctx context.Context, key string, codes []string) (added int, err error) {
	if len(codes) == 0 || len(codes) > 1000 {
		return 0, gamifytype.Invalid("Codes", len(codes), "must hold 1 to 1000 codes")
	}
	for i, c := range codes {
		if c == "" || len(c) > gamifytype.MaxIDLen {
			return 0, gamifytype.Invalid(fmt.Sprintf("Codes[%d]", i), c, "must be 1 to 255 bytes")
		}
		if err := gamifytype.CheckText(fmt.Sprintf("Codes[%d]", i), c, gamifytype.MaxIDLen); err != nil {
			return 0, err
		}
	}
	v, err := a.e.exec(ctx, a.e.now(), addCodesOp.cmd(addCodesArgs{Reward: key, Codes: codes}))
	if err != nil {
		return 0, fmt.Errorf("add codes to %s: %w", gamifytype.Quote(key), err)
	}
	return v.(int), nil
}

type addCodesArgs struct {
	Reward string
	Codes  []string
}

var addCodesOp = newOp("reward.add_codes", func(t *txn, a addCodesArgs) (int, error) {
	r, ok := t.w.cat.rewards[a.Reward]
	if !ok || r.Status == StatusArchived {
		return 0, ErrNotFound
	}
	n := 0
	err := t.w.db.View(func(tx *store.Tx) error {
		seen := map[string]bool{}
		for _, c := range a.Codes {
			k := codeKey(r.ref, c)
			if seen[c] || tx.Get(store.Codes, k) != nil || t.w.codeUsed(tx, r.ref, c) {
				continue
			}
			seen[c] = true
			t.writes = append(t.writes, write{store.Codes, k, []byte{0}})
			n++
		}
		return nil
	})
	if err == nil && n > 0 {
		t.addCounter(rewardCodesKey(a.Reward), int64(n))
	}
	return n, err
})

// codeUsed reports whether a code was given out (the claimed-codes index).
func (w *writer) codeUsed(tx *store.Tx, ref uint32, code string) bool {
	_, pending := w.claimedCodes[string(codeKey(ref, code))]
	return pending || tx.Get(store.Meta, append([]byte("code/"), codeKey(ref, code)...)) != nil
}

// Codes returns the codes left in a reward's inventory, loaded by AddCodes
// and not yet claimed, in byte order, paged by opts (IncludeArchived does
// not apply). An archived reward's remaining codes are listed too.
func (a RewardsAPI) Codes(ctx context.Context, key string, opts ListOptions) ([]string, error) {
	limit, err := opts.validate("ListOptions")
	if err != nil {
		return nil, err
	}
	out := []string{}
	skip := opts.Skip
	err = a.scanCodes(key, func(code []byte) error {
		if skip > 0 {
			skip--
			return nil
		}
		out = append(out, string(code))
		if len(out) == limit {
			return store.ErrStop
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CodeCount returns how many codes are left in a reward's inventory (what
// Codes lists); it reads every one of them.
func (a RewardsAPI) CodeCount(ctx context.Context, key string) (int, error) {
	n := 0
	err := a.scanCodes(key, func([]byte) error { n++; return nil })
	return n, err
}

// scanCodes calls fn with each unclaimed code of a reward, as committed.
func (a RewardsAPI) scanCodes(key string, fn func(code []byte) error) error {
	if err := a.e.live(); err != nil {
		return err
	}
	r, ok := a.e.cat.Load().rewards[key]
	if !ok {
		return fmt.Errorf("reward %s: %w", gamifytype.Quote(key), ErrNotFound)
	}
	prefix := binary.BigEndian.AppendUint32(nil, r.ref)
	err := a.e.db.View(func(tx *store.Tx) error {
		return tx.Scan(store.Codes, prefix, func(k, _ []byte) error { return fn(k[len(prefix):]) })
	})
	if err != nil {
		return fmt.Errorf("codes of %s: %w", gamifytype.Quote(key), err)
	}
	return nil
}

// RewardCode is one code of a reward.
type RewardCode struct {
	Code string
	// Claimed is true once a user claimed it (generated codes are claimed
	// when they are made); false while it is left in the inventory.
	Claimed bool
}

// Code looks a code of a reward up: left in the inventory or claimed. A
// code that was never loaded nor given out is ErrNotFound.
func (a RewardsAPI) Code(ctx context.Context, key, code string) (RewardCode, error) {
	if err := a.e.live(); err != nil {
		return RewardCode{}, err
	}
	r, ok := a.e.cat.Load().rewards[key]
	if !ok {
		return RewardCode{}, fmt.Errorf("reward %s: %w", gamifytype.Quote(key), ErrNotFound)
	}
	rc := RewardCode{Code: code}
	found := false
	err := a.e.db.View(func(tx *store.Tx) error {
		k := codeKey(r.ref, code)
		switch {
		case tx.Get(store.Codes, k) != nil:
			found = true
		case tx.Get(store.Meta, append([]byte("code/"), k...)) != nil:
			found, rc.Claimed = true, true
		}
		return nil
	})
	if err == nil && !found {
		err = ErrNotFound
	}
	if err != nil {
		return RewardCode{}, fmt.Errorf("code %q of %s: %w", gamifytype.Quote(code), gamifytype.Quote(key), err)
	}
	return rc, nil
}

// Claim is a user's claim of a reward.
type Claim struct {
	Reward     string     // the reward's key
	RewardName string     // the reward's name when it was claimed
	RewardType RewardType // the reward's type
	User       string
	Code       string // the allocated or generated code; empty for physical rewards without codes
	Cost       Amount
	// Balance is the user's available points in the reward's System right
	// after the debit; zero for a reward without a System.
	Balance            Amount
	At                 time.Time
	Seq                uint64 // the claim's ledger sequence (its id)
	IdempotentReplayed bool   `json:",omitempty"` // the idempotency key had been used: this is the original claim
	IdempotencyKey     string `json:",omitempty"` // the claim's idempotency key, if it had one
	// Payout names the payout that made a free claim: "challenge KEY
	// milestone N", "challenge KEY completed" or "milestone STREAK LENGTH";
	// empty for Claim's.
	Payout string `json:",omitempty"`
	// Grants are what the claim granted besides its code (the reward's
	// Grants when it was claimed).
	Grants RewardGrants `json:",omitzero"`
}

// UnmarshalJSON reads a Claim, also one stored before IdempotencyKey had
// its name ("IdemKey").
func (c *Claim) UnmarshalJSON(b []byte) error {
	type plain Claim // without this method
	var v struct {
		plain
		IdemKey string
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*c = Claim(v.plain)
	c.IdempotencyKey = cmp.Or(c.IdempotencyKey, v.IdemKey)
	return nil
}

// RewardClaimed is sent when a user claims a reward.
type RewardClaimed struct {
	Claim
}

// UserID implements Notification.
func (n RewardClaimed) UserID() string { return n.User }

// ClaimRequest is a user's claim of a reward.
type ClaimRequest struct {
	Reward string // the reward's key
	User   string // the user's id; the user is created on first sight
	// IdempotencyKey makes a retry safe: a repeat for the same (user,
	// reward, key) returns the original claim. The scope holds the reward,
	// a claim's only payload, so there is nothing else to compare: the same
	// key for another reward is another claim. It is apart from the points
	// scope of Award and Spend.
	IdempotencyKey string
}

// Claim claims a reward for a user in one transaction: it checks the
// reward exists and is not archived (ErrNotFound, a ValidationError naming
// ClaimRequest.Reward), is active and not
// expired (ErrConflict), the user's limit (ErrConflict), the stock
// (ErrOutOfStock), debits the cost from available points
// (ErrInsufficientPoints), allocates a loaded code or generates one, and
// records the claim. Any failure changes nothing. IdempotencyKey, if set,
// makes it idempotent: a repeat returns the original claim, even once the
// reward is inactive, archived or expired.
func (a RewardsAPI) Claim(ctx context.Context, c ClaimRequest) (Claim, error) {
	rewardKey, user, key := c.Reward, c.User, c.IdempotencyKey
	if err := errors.Join(validateUserID("ClaimRequest.User", user), checkIdemKey("ClaimRequest", key),
		gamifytype.ValidateKey("ClaimRequest.Reward", rewardKey)); err != nil {
		return Claim{}, err
	}
	v, err := a.e.exec(ctx, a.e.now(), claimOp.cmd(claimArgs{Reward: rewardKey, User: user, IdempotencyKey: key, Seed: newCodeSeed()}))
	if err != nil {
		return Claim{}, fmt.Errorf("claim %s for %q: %w", gamifytype.Quote(rewardKey), gamifytype.Quote(user), err)
	}
	return v.(Claim), nil
}

type claimArgs struct {
	Reward, User, IdempotencyKey string
	Seed                         string // the codes the claim generates derive from it (txn.newCode)
}

var claimOp = newOp("reward.claim", func(t *txn, a claimArgs) (Claim, error) {
	t.codeSeed = a.Seed
	return t.claim(a.Reward, a.User, a.IdempotencyKey)
})

func claimPrefix(uid uint64, ref uint32) []byte {
	return binary.BigEndian.AppendUint32(uidKey(uid), ref)
}

func (t *txn) claim(rewardKey, user, key string) (Claim, error) {
	w := t.w
	r, ok := w.cat.rewards[rewardKey]
	if !ok {
		return Claim{}, gamifytype.NotFound("ClaimRequest.Reward", rewardKey, "reward")
	}
	u, err := t.user(user, true)
	if err != nil {
		return Claim{}, err
	}
	idk := ""
	if key != "" {
		idk = idemKey(u.p.UID, r.ref|1<<30, key)
		rec, found, err := t.idemRecord(idk)
		if err != nil {
			return Claim{}, err
		}
		if found && !rec.matches(claimFingerprint) {
			return Claim{}, idemConflict("ClaimRequest.IdempotencyKey", key, "operation")
		}
		if found {
			c, err := w.readClaim(u.p.UID, r.ref, rec.seq)
			c.IdempotentReplayed = true
			return c, err
		}
	}
	// A replay answers even once the reward is no longer claimable: the
	// retry of a claim whose answer was lost gets that claim.
	if r.Status == StatusArchived {
		return Claim{}, gamifytype.NotFound("ClaimRequest.Reward", rewardKey, "reward")
	}
	if err := t.rewardGrantable(u, r, false); err != nil {
		return Claim{}, err
	}
	c, err := t.grantReward(u, r, key, "")
	if err != nil {
		return Claim{}, err
	}
	if key != "" {
		t.recordIdem(idk, c.Seq, claimFingerprint)
	}
	return c, nil
}

// rewardGrantable checks, changing nothing, that u may get r now: r is
// active and not expired (ErrConflict), within the user's limit
// (ErrConflict; not checked when free), in stock (ErrOutOfStock) and, when
// not free, affordable (ErrInsufficientPoints).
func (t *txn) rewardGrantable(u *userRec, r *Reward, free bool) error {
	w := t.w
	if r.Status != StatusActive {
		return fmt.Errorf("%w: reward %s is %s", ErrConflict, gamifytype.Quote(r.Key), r.Status)
	}
	if !r.Expires.IsZero() && !t.now.Before(r.Expires) {
		return fmt.Errorf("%w: reward %s expired at %s", ErrConflict, gamifytype.Quote(r.Key), r.Expires.Format(time.RFC3339))
	}
	if !free && r.PerUserLimit != RewardUnlimited {
		if mine, err := t.userClaims(u, r); err != nil {
			return err
		} else if mine >= r.PerUserLimit {
			return fmt.Errorf("%w: %q reached the limit of %d claims of %s", ErrConflict, gamifytype.Quote(u.p.ID), r.PerUserLimit, gamifytype.Quote(r.Key))
		}
	}
	codeK, err := t.freeCode(r)
	if err != nil {
		return err
	}
	claimed := int(t.counter(rewardClaimedKey(r.Key))) + int(t.achCount[rewardCounter+r.Key])
	hasCodes := t.counter(rewardCodesKey(r.Key)) > 0 || codeK != nil
	if (r.Inventory > 0 && claimed >= r.Inventory) || (hasCodes && codeK == nil) {
		return fmt.Errorf("%w: reward %s", ErrOutOfStock, gamifytype.Quote(r.Key))
	}
	if !free && r.Cost.Sign() > 0 {
		sys := w.cat.points.systems[r.System]
		if sys == nil {
			return fmt.Errorf("points system %s: %w", r.System, ErrNotFound)
		}
		var st points.State
		if i, ok := u.s.pointsOf(sys.ref); ok {
			st = u.s.Points[i].St
		}
		if _, _, err := points.Spend(st, r.Cost); err != nil {
			return err
		}
	}
	return t.bundleGrantable(u, r)
}

// userClaims counts u's claims of r, from the store plus the batches not
// yet known committed. A batch can be in the store before the writer hears
// so, so pending claims already stored are not counted twice.
func (t *txn) userClaims(u *userRec, r *Reward) (int, error) {
	w := t.w
	prefix := claimPrefix(u.p.UID, r.ref)
	stored := map[uint64]bool{}
	err := w.db.View(func(tx *store.Tx) error {
		return tx.Scan(store.Claims, prefix, func(k, _ []byte) error {
			stored[binary.BigEndian.Uint64(k[len(prefix):])] = true
			return nil
		})
	})
	if err != nil {
		return 0, err
	}
	mine := len(stored)
	for _, p := range w.pendingClaims[string(prefix)] {
		if !stored[p.seq] {
			mine++
		}
	}
	for _, c := range t.claimsAdded { // earlier in this command (milestones of one event)
		if c.prefix == string(prefix) {
			mine++
		}
	}
	return mine, nil
}

// freeCode returns the key of the first loaded code of r not yet given
// out, or nil.
func (t *txn) freeCode(r *Reward) ([]byte, error) {
	w := t.w
	var codeK []byte
	err := w.db.View(func(tx *store.Tx) error {
		return tx.Scan(store.Codes, binary.BigEndian.AppendUint32(nil, r.ref), func(k, _ []byte) error {
			if _, taken := w.claimedCodes[string(k)]; taken || slices.Contains(t.claimedCode, string(k)) {
				return nil
			}
			codeK = bytes.Clone(k)
			return store.ErrStop
		})
	})
	return codeK, err
}

// grantReward gives r to u once rewardGrantable passed: it debits the cost
// (unless a payout, named by payout, gives it free), allocates a loaded code
// or generates one, grants the bundle and records the claim.
func (t *txn) grantReward(u *userRec, r *Reward, key, payout string) (Claim, error) {
	w := t.w
	c := Claim{Reward: r.Key, RewardName: r.Name, RewardType: r.Type, User: u.p.ID, Cost: r.Cost, At: stamp(t.now), IdempotencyKey: key, Payout: payout}
	if payout != "" {
		c.Cost = Amount{}
	}
	if r.System != "" {
		sys := w.cat.points.systems[r.System]
		if sys == nil {
			return Claim{}, fmt.Errorf("points system %s: %w", r.System, ErrNotFound)
		}
		i, had := u.s.pointsOf(sys.ref)
		var st points.State
		if had {
			st = u.s.Points[i].St
		}
		c.Balance = st.Available()
		if c.Cost.Sign() > 0 {
			ns, fx, err := points.Spend(st, r.Cost)
			if err != nil {
				return Claim{}, err
			}
			if !had {
				u.s.Points = slices.Insert(u.s.Points, i, userPoints{Ref: sys.ref})
			}
			u.s.Points[i].St = ns
			if err := t.recordPoints(u, sys, fx, key); err != nil {
				return Claim{}, err
			}
			c.Balance = ns.Available()
		}
	}
	codeK, err := t.freeCode(r)
	if err != nil {
		return Claim{}, err
	}
	switch {
	case codeK != nil:
		c.Code = string(codeK[4:])
		t.writes = append(t.writes, write{store.Codes, codeK, nil})
	case r.Type != RewardPhysical && r.Type != RewardPointsMultiplier && r.Type != RewardBundle:
		c.Code = t.newCode()
	}
	if c.Code != "" {
		ck := codeKey(r.ref, c.Code)
		t.claimedCode = append(t.claimedCode, string(ck))
		t.writes = append(t.writes, write{store.Meta, append([]byte("code/"), ck...), uidKey(u.p.UID)})
	}
	if r.Type == RewardPointsMultiplier {
		t.addClaimBoost(Boost{Key: fmt.Sprintf("claim-%s-%d", r.Key, t.seq+1), System: r.System, Name: r.Name,
			User: u.p.ID, Start: t.now, End: t.now.Add(r.Duration), Multiplier: r.Multiplier})
	}
	if err := t.grantBundle(u, r, &c); err != nil {
		return Claim{}, err
	}
	c.Seq = t.nextSeq()
	prefix := claimPrefix(u.p.UID, r.ref)
	t.putJSON(store.Claims, binary.BigEndian.AppendUint64(prefix, c.Seq), c)
	t.claimsAdded = append(t.claimsAdded, addedClaim{prefix: string(prefix), seq: c.Seq})
	t.achCount[rewardCounter+r.Key]++ // counted like achievement completions, in the Meta keyspace
	t.notes = append(t.notes, RewardClaimed{Claim: c})
	return c, nil
}

// addedClaim is a claim made by a command; pendingClaim one of a batch not
// yet known committed.
type (
	addedClaim struct {
		prefix string
		seq    uint64
	}
	pendingClaim struct{ seq, gen uint64 }
)

// rewardCounter prefixes the claimed-count keys among the counters that
// txn.achCount carries.
const rewardCounter = "\x00reward/"

func rewardClaimedKey(key string) []byte { return achCountKey(rewardCounter + key) }
func rewardCodesKey(key string) []byte   { return []byte("count/codes/" + key) }

// counter reads a Meta counter as of the working state.
func (t *txn) counter(k []byte) uint64 {
	w := t.w
	v, ok := w.counters[string(k)]
	if !ok {
		_ = w.db.View(func(tx *store.Tx) error { v = readCounter(tx, k); return nil })
	}
	return v
}

func (w *writer) readClaim(uid uint64, ref uint32, seq uint64) (Claim, error) {
	var c Claim
	err := w.db.View(func(tx *store.Tx) error {
		v := tx.Get(store.Claims, binary.BigEndian.AppendUint64(claimPrefix(uid, ref), seq))
		if v == nil {
			return ErrNotFound
		}
		return json.Unmarshal(v, &c)
	})
	return c, err
}

// Generated codes are unguessable yet deterministic: a command that may
// generate some carries a random seed drawn before it, and its codes derive
// from the seed, so that applying the command again gives the same codes.

// newCodeSeed draws the seed of a command's generated codes.
func newCodeSeed() string { return rand.Text() }

// newCode returns the next code the command generates: 128 bits of
// SHA-256 over its seed and a counter, base32 without padding. A command
// without a seed (one not logged yet) draws a random code.
func (t *txn) newCode() string {
	if t.codeSeed == "" && t.seedNum != 0 {
		t.codeSeed = strconv.FormatUint(t.seedNum, 36)
	}
	if t.codeSeed == "" {
		return rand.Text()
	}
	h := sha256.Sum256(fmt.Appendf(nil, "%s/%d", t.codeSeed, t.codesMade))
	t.codesMade++
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(h[:16])
}

// bulkSet applies set to each item, one commit each, reporting failures per
// item (rewards' BulkCreate uses it).
func bulkSet[T any](ctx context.Context, field string, items []T, key func(T) string, set func(context.Context, T) (T, error)) ([]T, []Issue, error) {
	if err := checkBulk(field, len(items)); err != nil {
		return nil, nil, err
	}
	var out []T
	var issues []Issue
	for i, it := range items {
		v, err := set(ctx, it)
		if errors.Is(err, ErrClosed) {
			return out, issues, err
		}
		if err != nil {
			issues = append(issues, Issue{Index: i, Key: key(it), Severity: SeverityError, Message: err.Error(), Err: err})
			continue
		}
		out = append(out, v)
	}
	return out, issues, nil
}
