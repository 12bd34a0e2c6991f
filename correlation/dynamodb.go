package correlation

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// The state table's schema; constructs/correlation defines the same.
const (
	// AttrPK and AttrSK are the table's partition and sort keys (strings).
	AttrPK = "pk"
	AttrSK = "sk"
	// AttrExpires is the table's TTL attribute (epoch seconds); every item
	// has one.
	AttrExpires = "exp"
	// DueIndex is the global secondary index of windows awaiting their
	// digest: partition AttrDuePartition (string), sort AttrDueAt (number,
	// Unix nanoseconds), keys only. An item leaves it when its digest is done.
	DueIndex         = "due"
	AttrDuePartition = "dpk"
	AttrDueAt        = "dat"
)

// Item attributes beyond the keys.
const (
	dState   = "st"
	dLease   = "lease"
	dOpener  = "opener"
	dCounted = "counted"
	dReply   = "reply"
	dWinPK   = "wpk"
	dWinSK   = "wsk"
	dBy      = "by"
	dStart   = "hs"
	dEnd     = "he"
	dSeal    = "seal"
	dSealed  = "sealed"
	// dOnce is the binary set of the hashes of a window's Delta.Once.
	dOnce = "once"
	// Counters and strings of a window are stored under these prefixes, so
	// no event-derived name meets a key attribute.
	numPrefix = "n_"
	strPrefix = "s_"

	suppressionPK = "suppression"
)

// DynamoDBAPI is the part of the DynamoDB client the store uses.
type DynamoDBAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

// DynamoDBStore is a Store in one DynamoDB table (see AttrPK and the other
// schema constants): conditional writes and atomic counters, one item per
// operation.
type DynamoDBStore struct {
	client DynamoDBAPI
	table  string
}

var _ Store = (*DynamoDBStore)(nil)

// NewDynamoDBStore returns a store in table.
func NewDynamoDBStore(client DynamoDBAPI, table string) *DynamoDBStore {
	return &DynamoDBStore{client: client, table: table}
}

// TableSchema is the table as CreateTable makes it (for tests and local
// tools; the construct defines the deployed one).
func TableSchema(table string) *dynamodb.CreateTableInput {
	s := types.ScalarAttributeTypeS
	return &dynamodb.CreateTableInput{
		TableName:   aws.String(table),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(AttrPK), AttributeType: s},
			{AttributeName: aws.String(AttrSK), AttributeType: s},
			{AttributeName: aws.String(AttrDuePartition), AttributeType: s},
			{AttributeName: aws.String(AttrDueAt), AttributeType: types.ScalarAttributeTypeN},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(AttrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(AttrSK), KeyType: types.KeyTypeRange},
		},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String(DueIndex),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(AttrDuePartition), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(AttrDueAt), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly},
		}},
	}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }
func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}
func boolean(b bool) types.AttributeValue {
	return &types.AttributeValueMemberBOOL{Value: b}
}
func ttl(t time.Time) types.AttributeValue { return num(t.Unix()) }

func (k Key) av() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{AttrPK: str(k.PK), AttrSK: str(k.SK)}
}

func conditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

func getN(item map[string]types.AttributeValue, name string) int64 {
	if v, ok := item[name].(*types.AttributeValueMemberN); ok {
		n, _ := strconv.ParseInt(v.Value, 10, 64)
		return n
	}
	return 0
}

func getS(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func getBool(item map[string]types.AttributeValue, name string) bool {
	v, ok := item[name].(*types.AttributeValueMemberBOOL)
	return ok && v.Value
}

func claimedOf(item map[string]types.AttributeValue) *Claimed {
	if len(item) == 0 {
		return nil
	}
	return &Claimed{State: getS(item, dState), Opener: getBool(item, dOpener), Counted: getBool(item, dCounted),
		Reply: getBool(item, dReply), Window: Key{PK: getS(item, dWinPK), SK: getS(item, dWinSK)}, By: getS(item, dBy)}
}

// Claim implements Store.
func (s *DynamoDBStore) Claim(ctx context.Context, key Key, state, by string, now time.Time, lease time.Duration, expires time.Time) (ClaimResult, error) {
	item := key.av()
	item[dState] = str(state)
	item[dLease] = num(now.Add(lease).UnixNano())
	item[AttrExpires] = ttl(expires)
	cond := "attribute_not_exists(#pk) OR (#st = :pending AND #lease < :now)"
	names := map[string]string{"#pk": AttrPK, "#st": dState, "#lease": dLease}
	values := map[string]types.AttributeValue{":pending": str(StatePending), ":now": num(now.UnixNano())}
	if by != "" {
		item[dBy], values[":by"], names["#by"] = str(by), str(by), dBy
		cond += " OR #by = :by"
	}
	out, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(s.table),
		Item:                      item,
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
		ReturnValues:              types.ReturnValueAllOld,
	})
	if err == nil {
		return ClaimResult{Won: true, Old: claimedOf(out.Attributes)}, nil
	}
	if !conditionFailed(err) {
		return ClaimResult{}, fmt.Errorf("correlation: dynamodb claim: %w", err)
	}
	got, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key.av(), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return ClaimResult{}, fmt.Errorf("correlation: dynamodb read claim: %w", err)
	}
	old := claimedOf(got.Item)
	if old == nil { // deleted in between: the caller retries later
		old = &Claimed{State: StatePending}
	}
	return ClaimResult{Old: old}, nil
}

// Settle implements Store.
func (s *DynamoDBStore) Settle(ctx context.Context, key Key, state string, marks Claimed, expires time.Time) error {
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        aws.String(s.table),
		Key:              key.av(),
		UpdateExpression: aws.String("SET #st = :st, #opener = :opener, #counted = :counted, #reply = :reply, #wpk = :wpk, #wsk = :wsk, #lease = :zero, #exp = :exp"),
		ExpressionAttributeNames: map[string]string{
			"#st": dState, "#opener": dOpener, "#counted": dCounted, "#reply": dReply, "#wpk": dWinPK, "#wsk": dWinSK,
			"#lease": dLease, "#exp": AttrExpires,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":st": str(state), ":opener": boolean(marks.Opener), ":counted": boolean(marks.Counted), ":reply": boolean(marks.Reply),
			":wpk": str(marks.Window.PK), ":wsk": str(marks.Window.SK), ":zero": num(0), ":exp": ttl(expires),
		},
	})
	if err != nil {
		return fmt.Errorf("correlation: dynamodb settle: %w", err)
	}
	return nil
}

// Release implements Store.
func (s *DynamoDBStore) Release(ctx context.Context, key Key) error {
	if _, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: key.av()}); err != nil {
		return fmt.Errorf("correlation: dynamodb release: %w", err)
	}
	return nil
}

// read reads one item consistently; nil when there is none. what names it
// in the error.
func (s *DynamoDBStore) read(ctx context.Context, key Key, what string) (map[string]types.AttributeValue, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key.av(), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("correlation: dynamodb read %s: %w", what, err)
	}
	if len(out.Item) == 0 {
		return nil, nil
	}
	return out.Item, nil
}

// Head implements Store.
func (s *DynamoDBStore) Head(ctx context.Context, key Key) (Head, bool, error) {
	item, err := s.read(ctx, key, "group")
	if item == nil {
		return Head{}, false, err
	}
	return Head{Start: time.Unix(0, getN(item, dStart)), End: time.Unix(0, getN(item, dEnd))}, true, nil
}

// Open implements Store.
func (s *DynamoDBStore) Open(ctx context.Context, key Key, h Head, expires time.Time) (bool, error) {
	item := key.av()
	item[dStart], item[dEnd], item[AttrExpires] = num(h.Start.UnixNano()), num(h.End.UnixNano()), ttl(expires)
	_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(s.table),
		Item:                      item,
		ConditionExpression:       aws.String("attribute_not_exists(#pk) OR #he <= :start"),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrPK, "#he": dEnd},
		ExpressionAttributeValues: map[string]types.AttributeValue{":start": num(h.Start.UnixNano())},
	})
	if conditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("correlation: dynamodb open window: %w", err)
	}
	return true, nil
}

// Add implements Store. When the item would outgrow DynamoDB's item size
// (an attacker varying service and action names), the breakdown is dropped
// and only the counts are added.
func (s *DynamoDBStore) Add(ctx context.Context, key Key, d Delta) (Item, error) {
	it, err := s.add(ctx, key, d)
	if err != nil && isItemTooLarge(err) {
		slim := Delta{Add: map[string]int64{}, Due: d.Due, DuePartition: d.DuePartition, Expires: d.Expires}
		for _, k := range []string{attrCount, attrSuppressed} {
			if v, ok := d.Add[k]; ok {
				slim.Add[k] = v
			}
		}
		it, err = s.add(ctx, key, slim)
	}
	return it, err
}

func isItemTooLarge(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "ValidationException" && strings.Contains(strings.ToLower(ae.ErrorMessage()), "size")
}

func (s *DynamoDBStore) add(ctx context.Context, key Key, d Delta) (Item, error) {
	names := map[string]string{"#seal": dSeal, "#sealed": dSealed}
	values := map[string]types.AttributeValue{}
	var adds, sets []string
	i := 0
	name := func(attr string) string {
		i++
		n := "#a" + strconv.Itoa(i)
		names[n] = attr
		return n
	}
	value := func(v types.AttributeValue) string {
		n := ":v" + strconv.Itoa(i)
		values[n] = v
		return n
	}
	for k, v := range d.Add {
		n := name(numPrefix + k)
		adds = append(adds, n+" "+value(num(v)))
	}
	for k, v := range d.SetOnce {
		n := name(strPrefix + k)
		sets = append(sets, n+" = if_not_exists("+n+", "+value(str(v))+")")
	}
	for k, v := range d.Set {
		n := name(strPrefix + k)
		sets = append(sets, n+" = "+value(str(v)))
	}
	if !d.Expires.IsZero() {
		names["#exp"], values[":exp"] = AttrExpires, ttl(d.Expires)
		sets = append(sets, "#exp = :exp")
	}
	cond := "attribute_not_exists(#seal) AND attribute_not_exists(#sealed)"
	var once []byte
	if d.Once != "" {
		once = onceHash(d.Once)
		names["#once"] = dOnce
		values[":once"], values[":onceset"] = &types.AttributeValueMemberB{Value: once}, &types.AttributeValueMemberBS{Value: [][]byte{once}}
		values[":oncecap"] = num(OnceLimit)
		adds = append(adds, "#once :onceset")
		cond += " AND NOT contains(#once, :once) AND (attribute_not_exists(#once) OR size(#once) < :oncecap)"
	}
	if !d.Due.IsZero() {
		names["#dpk"], names["#dat"] = AttrDuePartition, AttrDueAt
		values[":dpk"], values[":dat"] = str(d.DuePartition), num(d.Due.UnixNano())
		sets = append(sets, "#dpk = :dpk", "#dat = :dat")
	}
	var expr string
	if len(sets) > 0 {
		expr = "SET " + strings.Join(sets, ", ")
	}
	if len(adds) > 0 {
		expr += " ADD " + strings.Join(adds, ", ")
	}
	if expr == "" {
		// Nothing to change (UpdateItem needs an expression): the item as it is.
		it, _, err := s.Get(ctx, key)
		return it, err
	}
	out, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key.av(),
		UpdateExpression:          aws.String(expr),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
		ReturnValues:              types.ReturnValueAllNew,
	})
	if conditionFailed(err) {
		it, err := s.refused(ctx, key, once)
		if errors.Is(err, errOnceFull) {
			d.Once = ""
			return s.add(ctx, key, d)
		}
		return it, err
	}
	if err != nil {
		return Item{}, fmt.Errorf("correlation: dynamodb count: %w", err)
	}
	return itemOf(out.Attributes), nil
}

// errOnceFull reports a window that holds OnceLimit hashes already.
var errOnceFull = errors.New("correlation: window counts without once")

// refused says why an Add's condition failed: the window is sealed, it
// holds the delta's Once already (the item as it is, Repeated), or its set
// of hashes is full (errOnceFull).
func (s *DynamoDBStore) refused(ctx context.Context, key Key, once []byte) (Item, error) {
	item, err := s.read(ctx, key, "window")
	if err != nil {
		return Item{}, err
	}
	_, seal := item[dSeal]
	_, sealed := item[dSealed]
	set, _ := item[dOnce].(*types.AttributeValueMemberBS)
	switch {
	case seal || sealed || once == nil || set == nil:
		return Item{}, ErrSealed
	case slices.ContainsFunc(set.Value, func(b []byte) bool { return bytes.Equal(b, once) }):
		it := itemOf(item)
		it.Repeated = true
		return it, nil
	case len(set.Value) >= OnceLimit:
		return Item{}, errOnceFull
	}
	// No reason found (a seal is never removed, so none is expected):
	// ErrSealed sends the caller on to the next window, which is safe.
	return Item{}, ErrSealed
}

// onceHash is the 8 bytes a window keeps of a Delta.Once: a window's
// activities are far fewer than the 2^32 it takes for two of them to
// share one by chance.
func onceHash(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:8]
}

// Get implements Store.
func (s *DynamoDBStore) Get(ctx context.Context, key Key) (Item, bool, error) {
	item, err := s.read(ctx, key, "window")
	if item == nil {
		return Item{}, false, err
	}
	return itemOf(item), true, nil
}

func itemOf(attrs map[string]types.AttributeValue) Item {
	it := Item{Nums: map[string]int64{}, Strs: map[string]string{}}
	for k := range attrs {
		switch {
		case strings.HasPrefix(k, numPrefix):
			it.Nums[strings.TrimPrefix(k, numPrefix)] = getN(attrs, k)
		case strings.HasPrefix(k, strPrefix):
			it.Strs[strings.TrimPrefix(k, strPrefix)] = getS(attrs, k)
		}
	}
	return it
}

// Due implements Store.
func (s *DynamoDBStore) Due(ctx context.Context, partition string, now time.Time) ([]Key, error) {
	var keys []Key
	p := dynamodb.NewQueryPaginator(s.client, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(DueIndex),
		KeyConditionExpression:    aws.String("#dpk = :p AND #dat <= :now"),
		ExpressionAttributeNames:  map[string]string{"#dpk": AttrDuePartition, "#dat": AttrDueAt},
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": str(partition), ":now": num(now.UnixNano())},
	})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return keys, fmt.Errorf("correlation: dynamodb due windows: %w", err)
		}
		for _, it := range out.Items {
			keys = append(keys, Key{PK: getS(it, AttrPK), SK: getS(it, AttrSK)})
		}
	}
	return keys, nil
}

// Seal implements Store.
func (s *DynamoDBStore) Seal(ctx context.Context, key Key, now time.Time, lease time.Duration) (Item, bool, error) {
	out, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key.av(),
		UpdateExpression:          aws.String("SET #seal = :until"),
		ConditionExpression:       aws.String("attribute_exists(#pk) AND attribute_not_exists(#sealed) AND (attribute_not_exists(#seal) OR #seal < :now)"),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrPK, "#seal": dSeal, "#sealed": dSealed},
		ExpressionAttributeValues: map[string]types.AttributeValue{":until": num(now.Add(lease).UnixNano()), ":now": num(now.UnixNano())},
		ReturnValues:              types.ReturnValueAllNew,
	})
	if conditionFailed(err) {
		return Item{}, false, nil
	}
	if err != nil {
		return Item{}, false, fmt.Errorf("correlation: dynamodb seal window: %w", err)
	}
	return itemOf(out.Attributes), true, nil
}

// Done implements Store.
func (s *DynamoDBStore) Done(ctx context.Context, key Key) error {
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key.av(),
		UpdateExpression:          aws.String("SET #sealed = :t REMOVE #dpk, #dat"),
		ConditionExpression:       aws.String("attribute_exists(#pk)"),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrPK, "#sealed": dSealed, "#dpk": AttrDuePartition, "#dat": AttrDueAt},
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": boolean(true)},
	})
	if err != nil && !conditionFailed(err) {
		return fmt.Errorf("correlation: dynamodb close window: %w", err)
	}
	return nil
}

// suppressionExpiry keeps an expired suppression listed for a week.
const suppressionExpiry = 7 * 24 * time.Hour

// PutSuppression implements Store.
func (s *DynamoDBStore) PutSuppression(ctx context.Context, sup Suppression) error {
	item := Key{PK: suppressionPK, SK: sup.ID}.av()
	for k, v := range map[string]string{
		"principal": sup.Principal, "detection": sup.Detection, "sourceIp": sup.SourceIP, "account": sup.Account,
		"reason": sup.Reason, "until": sup.Until.UTC().Format(time.RFC3339), "created": sup.Created.UTC().Format(time.RFC3339),
	} {
		if v != "" {
			item[k] = str(v)
		}
	}
	item[AttrExpires] = ttl(sup.Until.Add(suppressionExpiry))
	if _, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
		return fmt.Errorf("correlation: dynamodb put suppression: %w", err)
	}
	return nil
}

// Suppressions implements Store.
func (s *DynamoDBStore) Suppressions(ctx context.Context) ([]Suppression, error) {
	var out []Suppression
	p := dynamodb.NewQueryPaginator(s.client, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(suppressionPK)},
		ConsistentRead:            aws.Bool(true),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return out, fmt.Errorf("correlation: dynamodb list suppressions: %w", err)
		}
		for _, it := range page.Items {
			sup := Suppression{
				ID: getS(it, AttrSK), Principal: getS(it, "principal"), Detection: getS(it, "detection"),
				SourceIP: getS(it, "sourceIp"), Account: getS(it, "account"), Reason: getS(it, "reason"),
			}
			sup.Until, _ = time.Parse(time.RFC3339, getS(it, "until"))
			sup.Created, _ = time.Parse(time.RFC3339, getS(it, "created"))
			out = append(out, sup)
		}
	}
	return out, nil
}

// DeleteSuppression implements Store.
func (s *DynamoDBStore) DeleteSuppression(ctx context.Context, id string) error {
	_, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                aws.String(s.table),
		Key:                      Key{PK: suppressionPK, SK: id}.av(),
		ConditionExpression:      aws.String("attribute_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": AttrPK},
	})
	if conditionFailed(err) {
		return fmt.Errorf("%w: suppression %s", ErrNotFound, id)
	}
	if err != nil {
		return fmt.Errorf("correlation: dynamodb delete suppression: %w", err)
	}
	return nil
}
