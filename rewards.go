package gamify

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/gamifykit/gamify/points"
	"github.com/gamifykit/gamify/store"
)

// RewardType is what a reward gives.
type RewardType string

// The reward types.
const (
	RewardCoupon           RewardType = "coupon"
	RewardVoucher          RewardType = "voucher"
	RewardPhysical         RewardType = "physical"
	RewardDigital          RewardType = "digital"
	RewardPointsMultiplier RewardType = "points_multiplier" // a per-user boost for a while
)

// Reward is something users claim, usually for points.
type Reward struct {
	Key         string
	Name        string
	Description string
	Type        RewardType
	// Cost is debited from the user's available points in System.
	Cost   Amount
	System string
	// PerUserLimit is how many times a user may claim it. Default 1.
	PerUserLimit int
	// Inventory caps the claims of all users; 0 means unlimited (or, with
	// loaded codes, as many as there are codes).
	Inventory int
	// Expires ends claiming; zero means never.
	Expires time.Time
	Active  bool
	// Multiplier and Duration (points_multiplier rewards): a boost of
	// System for the claiming user, from the claim for Duration.
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

// Validate reports every bad field of a reward.
func (r *Reward) Validate() error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	add(gamifytype.ValidateKey("Reward.Key", r.Key))
	add(validateName("Reward", r.Name))
	switch r.Type {
	case RewardCoupon, RewardVoucher, RewardPhysical, RewardDigital:
	case RewardPointsMultiplier:
		if r.Multiplier.Sign() <= 0 || !r.Multiplier.Less(AmountFromInt(100)) || r.Multiplier == AmountFromInt(1) {
			add(gamifytype.Invalid("Reward.Multiplier", r.Multiplier, "must be in (0, 100) and not 1"))
		}
		if r.Duration <= 0 {
			add(gamifytype.Invalid("Reward.Duration", r.Duration, "must be positive"))
		}
	default:
		add(gamifytype.Invalid("Reward.Type", r.Type, "must be coupon, voucher, physical, digital or points_multiplier"))
	}
	if r.Cost.Sign() < 0 {
		add(gamifytype.Invalid("Reward.Cost", r.Cost, "must not be negative"))
	}
	if (r.Cost.Sign() > 0 || r.Type == RewardPointsMultiplier) && r.System == "" {
		add(gamifytype.Invalid("Reward.System", r.System, "must name the points system"))
	}
	if r.PerUserLimit < 0 {
		add(gamifytype.Invalid("Reward.PerUserLimit", r.PerUserLimit, "must not be negative"))
	}
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
	v, _ := json.Marshal(storedReward{Reward: *r, Ref: r.ref})
	t.writes = append(t.writes, write{store.Definitions, []byte(defReward + r.Key), v})
}

// Create defines a reward (PerUserLimit 0 becomes 1).
func (a RewardsAPI) Create(ctx context.Context, r Reward) (Reward, error) {
	if err := r.Validate(); err != nil {
		return Reward{}, err
	}
	if r.PerUserLimit == 0 {
		r.PerUserLimit = 1
	}
	v, err := a.e.admin(ctx, a.e.now(), func(t *txn) (any, error) {
		cat := t.catalogForWrite()
		if _, ok := cat.rewards[r.Key]; ok {
			return nil, fmt.Errorf("%w: reward %s exists", ErrConflict, r.Key)
		}
		if r.System != "" {
			if s, ok := cat.points.systems[r.System]; !ok || s.Status != StatusActive {
				return nil, gamifytype.Invalid("Reward.System", r.System, "is not an active points system")
			}
		}
		cat.lastRewardRef++
		r.ref = cat.lastRewardRef
		r.Created, r.Updated = stamp(t.now), stamp(t.now)
		t.putReward(&r)
		return r, nil
	})
	if err != nil {
		return Reward{}, fmt.Errorf("create reward %s: %w", r.Key, err)
	}
	return v.(Reward), nil
}

// Get returns a reward, or ErrNotFound.
func (a RewardsAPI) Get(ctx context.Context, key string) (Reward, error) {
	return getDef(a.e, "reward", key, func(c *catalog) map[string]*Reward { return c.rewards })
}

// List returns the catalogue of active rewards, optionally of one type.
func (a RewardsAPI) List(ctx context.Context, typ RewardType, opts ListOptions) ([]Reward, error) {
	return listDefs(a.e, opts, func(c *catalog) map[string]*Reward { return c.rewards },
		func(r *Reward) bool { return (r.Active || opts.IncludeArchived) && (typ == "" || r.Type == typ) },
		func(x, y *Reward) int { return strings.Compare(x.Key, y.Key) })
}

// SetActive turns claiming of a reward on or off (a soft delete is off).
func (a RewardsAPI) SetActive(ctx context.Context, key string, active bool) error {
	_, err := a.e.admin(ctx, a.e.now(), func(t *txn) (any, error) {
		old, ok := t.catalogForWrite().rewards[key]
		if !ok {
			return nil, ErrNotFound
		}
		r := *old
		r.Active, r.Updated = active, stamp(t.now)
		t.putReward(&r)
		return nil, nil
	})
	if err != nil {
		return fmt.Errorf("set reward %s active: %w", key, err)
	}
	return nil
}

func codeKey(ref uint32, code string) []byte {
	return append(binary.BigEndian.AppendUint32(nil, ref), code...)
}

// AddCodes loads codes into a reward's inventory (up to 1000 per call);
// codes already loaded or claimed are reported and skipped.
func (a RewardsAPI) AddCodes(ctx context.Context, key string, codes []string) (added int, err error) {
	if len(codes) == 0 || len(codes) > 1000 {
		return 0, gamifytype.Invalid("Codes", len(codes), "must hold 1 to 1000 codes")
	}
	for i, c := range codes {
		if c == "" || len(c) > 255 {
			return 0, gamifytype.Invalid(fmt.Sprintf("Codes[%d]", i), len(c), "must be 1 to 255 bytes")
		}
	}
	v, err := a.e.admin(ctx, a.e.now(), func(t *txn) (any, error) {
		r, ok := t.w.cat.rewards[key]
		if !ok {
			return nil, ErrNotFound
		}
		n := 0
		err := t.w.db.View(func(tx *store.Tx) error {
			seen := map[string]bool{}
			for _, c := range codes {
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
			t.addCounter(rewardCodesKey(key), int64(n))
		}
		return n, err
	})
	if err != nil {
		return 0, fmt.Errorf("add codes to %s: %w", key, err)
	}
	return v.(int), nil
}

// codeUsed reports whether a code was given out (the claimed-codes index).
func (w *writer) codeUsed(tx *store.Tx, ref uint32, code string) bool {
	_, pending := w.claimedCodes[string(codeKey(ref, code))]
	return pending || tx.Get(store.Meta, append([]byte("code/"), codeKey(ref, code)...)) != nil
}

// Claim is a user's claim of a reward.
type Claim struct {
	Reward  string
	User    string
	Code    string // the allocated or generated code; empty for physical rewards without codes
	Cost    Amount
	At      time.Time
	Seq     uint64 // the claim's ledger sequence (its id)
	Replay  bool   `json:"-"` // the idempotency key had been used: this is the original claim
	IdemKey string `json:",omitempty"`
}

// RewardClaimed is sent when a user claims a reward.
type RewardClaimed struct {
	Claim
}

// UserID implements Notification.
func (n RewardClaimed) UserID() string { return n.User }

// Claim claims a reward for a user in one transaction: it checks the
// reward is active and not expired, the user's limit (ErrConflict), the stock
// (ErrOutOfStock), debits the cost from available points
// (ErrInsufficientPoints), allocates a loaded code or generates one, and
// records the claim. Any failure changes nothing. key, if set, makes it
// idempotent: a repeat returns the original claim.
func (a RewardsAPI) Claim(ctx context.Context, rewardKey, user, key string) (Claim, error) {
	if err := validateUserID("Claim.User", user); err != nil {
		return Claim{}, err
	}
	v, err := a.e.admin(ctx, a.e.now(), func(t *txn) (any, error) { return t.claim(rewardKey, user, key) })
	if err != nil {
		return Claim{}, fmt.Errorf("claim %s for %q: %w", rewardKey, user, err)
	}
	return v.(Claim), nil
}

func claimPrefix(uid uint64, ref uint32) []byte {
	return binary.BigEndian.AppendUint32(uidKey(uid), ref)
}

func (t *txn) claim(rewardKey, user, key string) (Claim, error) {
	w := t.w
	r, ok := w.cat.rewards[rewardKey]
	if !ok {
		return Claim{}, ErrNotFound
	}
	if !r.Active || (!r.Expires.IsZero() && !t.now.Before(r.Expires)) {
		return Claim{}, fmt.Errorf("%w: reward %s is not claimable", ErrConflict, rewardKey)
	}
	u, err := t.user(user, true)
	if err != nil {
		return Claim{}, err
	}
	idk := ""
	if key != "" {
		idk = idemKey(u.p.UID, r.ref|1<<30, key)
		seq, _, found, err := w.idemRecord(idk)
		if err != nil {
			return Claim{}, err
		}
		if found {
			c, err := w.readClaim(u.p.UID, r.ref, seq)
			c.Replay = true
			return c, err
		}
	}
	// The user's limit and the stock, from the store plus the batches not
	// yet known committed. A batch can be in the store before the writer
	// hears so, so pending claims already stored are not counted twice.
	prefix := claimPrefix(u.p.UID, r.ref)
	stored := map[uint64]bool{}
	var codeK []byte
	err = w.db.View(func(tx *store.Tx) error {
		_ = tx.Scan(store.Claims, prefix, func(k, _ []byte) error {
			stored[binary.BigEndian.Uint64(k[len(prefix):])] = true
			return nil
		})
		return tx.Scan(store.Codes, binary.BigEndian.AppendUint32(nil, r.ref), func(k, _ []byte) error {
			if _, taken := w.claimedCodes[string(k)]; taken {
				return nil
			}
			codeK = bytes.Clone(k)
			return store.ErrStop
		})
	})
	if err != nil {
		return Claim{}, err
	}
	mine := len(stored)
	for _, p := range w.pendingClaims[string(prefix)] {
		if !stored[p.seq] {
			mine++
		}
	}
	if mine >= r.PerUserLimit {
		return Claim{}, fmt.Errorf("%w: %q reached the limit of %d claims of %s", ErrConflict, user, r.PerUserLimit, rewardKey)
	}
	claimed := int(t.counter(rewardClaimedKey(rewardKey)))
	hasCodes := t.counter(rewardCodesKey(rewardKey)) > 0 || codeK != nil
	if (r.Inventory > 0 && claimed >= r.Inventory) || (hasCodes && codeK == nil) {
		return Claim{}, fmt.Errorf("%w: reward %s", ErrOutOfStock, rewardKey)
	}
	c := Claim{Reward: rewardKey, User: user, Cost: r.Cost, At: stamp(t.now), IdemKey: key}
	if r.Cost.Sign() > 0 {
		sys := w.cat.points.systems[r.System]
		if sys == nil {
			return Claim{}, fmt.Errorf("points system %s: %w", r.System, ErrNotFound)
		}
		i, had := u.s.pointsOf(sys.ref)
		var st points.State
		if had {
			st = u.s.Points[i].St
		}
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
	}
	switch {
	case codeK != nil:
		c.Code = string(codeK[4:])
		t.writes = append(t.writes, write{store.Codes, codeK, nil})
	case r.Type != RewardPhysical && r.Type != RewardPointsMultiplier:
		c.Code = newCode()
	}
	if c.Code != "" {
		ck := codeKey(r.ref, c.Code)
		t.claimedCode = append(t.claimedCode, string(ck))
		t.writes = append(t.writes, write{store.Meta, append([]byte("code/"), ck...), uidKey(u.p.UID)})
	}
	if r.Type == RewardPointsMultiplier {
		t.addClaimBoost(Boost{Key: fmt.Sprintf("claim-%s-%d", rewardKey, t.seq+1), System: r.System, Name: r.Name,
			User: user, Start: t.now, End: t.now.Add(r.Duration), Multiplier: r.Multiplier})
	}
	c.Seq = t.nextSeq()
	rec, _ := json.Marshal(c)
	t.writes = append(t.writes, write{store.Claims, binary.BigEndian.AppendUint64(prefix, c.Seq), rec})
	t.claimsAdded = append(t.claimsAdded, addedClaim{prefix: string(prefix), seq: c.Seq})
	t.achCount[rewardCounter+rewardKey]++ // counted like achievement completions, in the Meta keyspace
	if key != "" {
		if t.idem == nil {
			t.idem = make(map[string]pendingVal)
		}
		t.idem[idk] = pendingVal{seq: c.Seq, at: t.now.UnixNano()}
	}
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

// newCode returns an unguessable code: 16 random bytes, base32 without
// padding, in groups.
func newCode() string {
	return strings.ToUpper(rand.Text())
}

// Claims returns a user's claims, latest first.
func (a UsersAPI) Claims(ctx context.Context, id string) ([]Claim, error) {
	p, _, err := a.e.readUser(id, false)
	if err != nil {
		return nil, err
	}
	var out []Claim
	err = a.e.db.View(func(tx *store.Tx) error {
		return tx.Scan(store.Claims, uidKey(p.UID), func(_, v []byte) error {
			var c Claim
			if err := json.Unmarshal(v, &c); err != nil {
				return err
			}
			out = append(out, c)
			return nil
		})
	})
	slices.SortFunc(out, func(x, y Claim) int { return cmp.Compare(y.Seq, x.Seq) })
	return out, err
}

// Update replaces a reward's definition (its key, type and system are
// immutable; claims already made are kept).
func (a RewardsAPI) Update(ctx context.Context, r Reward) (Reward, error) {
	if err := r.Validate(); err != nil {
		return Reward{}, err
	}
	r.PerUserLimit = cmp.Or(r.PerUserLimit, 1)
	v, err := a.e.admin(ctx, a.e.now(), func(t *txn) (any, error) {
		old, ok := t.catalogForWrite().rewards[r.Key]
		if !ok {
			return nil, ErrNotFound
		}
		if r.Type != old.Type || r.System != old.System {
			return nil, gamifytype.Invalid("Reward.Type", r.Type, "type and system cannot change")
		}
		r.ref, r.Created, r.Updated = old.ref, old.Created, stamp(t.now)
		t.putReward(&r)
		return r, nil
	})
	if err != nil {
		return Reward{}, fmt.Errorf("update reward %s: %w", r.Key, err)
	}
	return v.(Reward), nil
}

// BulkCreate creates up to 100 rewards, reporting failures per item.
func (a RewardsAPI) BulkCreate(ctx context.Context, rs []Reward) ([]Reward, []Issue, error) {
	return bulkSet(ctx, "Rewards", rs, func(r Reward) string { return r.Key }, a.Create)
}
