"""The tables of the simulated company: every column, its dtype, unit and meaning.

This is the single description used by the generator (column order and dtypes), by
``CRMData.save``/``load`` (round trip) and by the data card in ``datasets/README.md``.
"""

from __future__ import annotations

__all__ = ["TABLES", "B2B_TABLES", "TABLE_DESCRIPTIONS", "SERVQUAL_DIMENSIONS", "LOYALTY_ITEMS", "data_card_markdown"]

SERVQUAL_DIMENSIONS = ("tangibles", "reliability", "responsiveness", "assurance", "empathy")
LOYALTY_ITEMS = ("loy_repurchase_intent", "loy_prefer_over_competitors", "loy_price_tolerance")

TABLE_DESCRIPTIONS = {
    "customers": "One row per customer: profile, acquisition and membership.",
    "transactions": "One row per purchase (order).",
    "order_lines": "One row per product in an order; line amounts sum to the order amount.",
    "products": "The product catalogue.",
    "interactions": "Service contacts: inquiries and complaints, with their handling.",
    "surveys": "Post-purchase satisfaction surveys (one per responding customer).",
    "campaigns": "The randomised retention campaign: one row per eligible customer.",
    "touchpoints": "Journey events on the digital channels (web, app, mini-program): visit, browse, cart, purchase. Store purchases have no touchpoints.",
    "truth": "The latent ground truth per customer (unknown to an analyst in real life).",
    "accounts": "B2B: one row per business account (企业客户) with the sales team's estimates.",
    "contacts": "B2B: the people of each account's buying centre (采购中心) and their roles.",
    "opportunities": "B2B: sales opportunities (销售机会) with their value, current stage and outcome.",
    "opportunity_stages": "B2B: when each opportunity entered each pipeline stage.",
    "activities": "B2B: the sales team's visits and calls (拜访, 回访), one row each.",
    "account_truth": "B2B: the latent truth per account (unknown to the sales team).",
    "opportunity_truth": "B2B: the latent truth per opportunity (unknown to the sales team).",
}

#: The tables of the B2B side; a dataset saved before it existed has none of them.
B2B_TABLES = ("accounts", "contacts", "opportunities", "opportunity_stages", "activities", "account_truth",
              "opportunity_truth")

# (dtype, unit or values, meaning)
TABLES: dict[str, dict[str, tuple[str, str, str]]] = {
    "customers": {
        "customer_id": ("int64", "", "Customer key, 1..n."),
        "signup_date": ("datetime64[us]", "", "Date and time the customer registered (acquisition)."),
        "acquisition_channel": ("str", "store/web/app/mini_program/referral", "Channel through which the customer was acquired."),
        "age": ("int64", "years", "Age at signup."),
        "gender": ("str", "F/M", "Gender."),
        "region": ("str", "East/North/South/Central/West", "Region of residence."),
        "city_tier": ("int64", "1-4", "City tier (1 = largest cities)."),
        "income_band": ("str", "low/middle/high", "Self-reported income band."),
        "is_member": ("bool", "", "Joined the loyalty programme by the observation end."),
        "member_since": ("datetime64[us]", "", "Date the customer joined the loyalty programme (NaT if never)."),
        "member_tier": ("str", "none/silver/gold/platinum", "Loyalty tier at the observation end."),
        "marketing_consent": ("bool", "", "Customer agreed to receive marketing messages."),
        "name": ("str", "", "Fake full name (for the privacy chapter)."),
        "email": ("str", "", "Fake e-mail address."),
        "phone": ("str", "", "Fake mobile number (11 digits)."),
    },
    "transactions": {
        "transaction_id": ("int64", "", "Order key."),
        "customer_id": ("int64", "", "Customer who bought."),
        "date": ("datetime64[us]", "", "Date and time of the purchase."),
        "amount": ("float64", "CNY", "Amount paid after discount (sum of the order lines)."),
        "discount": ("float64", "CNY", "Discount granted on the order (0 if none)."),
        "channel": ("str", "store/web/app/mini_program", "Sales channel."),
        "n_items": ("int64", "items", "Number of order lines."),
    },
    "order_lines": {
        "transaction_id": ("int64", "", "Order key."),
        "line_no": ("int64", "", "Line number within the order, from 1."),
        "product_id": ("int64", "", "Product bought."),
        "quantity": ("int64", "units", "Units bought."),
        "line_amount": ("float64", "CNY", "Amount paid for the line after discount."),
    },
    "products": {
        "product_id": ("int64", "", "Product key."),
        "product_name": ("str", "", "Product name."),
        "category": ("str", "", "Product category."),
        "list_price": ("float64", "CNY", "Catalogue unit price."),
    },
    "interactions": {
        "interaction_id": ("int64", "", "Contact key."),
        "customer_id": ("int64", "", "Customer who contacted the company."),
        "date": ("datetime64[us]", "", "Date and time of the contact."),
        "type": ("str", "inquiry/complaint", "Kind of contact."),
        "channel": ("str", "phone/chat/email/store", "Service channel used."),
        "category": ("str", "delivery/product_quality/billing/staff/returns/other", "Topic of the contact."),
        "transaction_id": ("Int64", "", "Order a complaint refers to (missing for inquiries)."),
        "resolved": ("bool", "", "The issue was resolved."),
        "resolution_days": ("float64", "days", "Days until resolution (NaN if unresolved)."),
        "satisfaction_after": ("float64", "1-5", "Satisfaction with the handling, asked after closing (NaN if not asked)."),
    },
    "surveys": {
        "survey_id": ("int64", "", "Survey response key."),
        "customer_id": ("int64", "", "Responding customer."),
        "date": ("datetime64[us]", "", "Date and time of the response."),
        "transaction_id": ("int64", "", "Purchase that triggered the survey."),
        "csat": ("int64", "1-5", "Overall satisfaction (5 = very satisfied)."),
        "nps": ("int64", "0-10", "Likelihood to recommend (Net Promoter question)."),
        "perceived_value": ("int64", "1-7", "Value for money as perceived by the customer."),
        **{f"exp_{d}": ("int64", "1-7", f"Expectation for {d} (SERVQUAL).") for d in SERVQUAL_DIMENSIONS},
        **{f"perf_{d}": ("int64", "1-7", f"Perceived performance on {d} (SERVQUAL).") for d in SERVQUAL_DIMENSIONS},
        "loy_repurchase_intent": ("int64", "1-7", "I will buy from the company again."),
        "loy_prefer_over_competitors": ("int64", "1-7", "I prefer the company to its competitors."),
        "loy_price_tolerance": ("int64", "1-7", "I would stay even if prices rose a little."),
    },
    "campaigns": {
        "customer_id": ("int64", "", "Eligible customer (acquired before the campaign)."),
        "campaign_date": ("datetime64[us]", "", "Date the retention offer was sent."),
        "group": ("str", "treatment/control", "Randomised arm."),
        "treated": ("bool", "", "Received the offer (group == 'treatment')."),
        "offer_cost": ("float64", "CNY", "Cost of the offer (0 for control)."),
    },
    "touchpoints": {
        "session_id": ("int64", "", "Session key (a visit and what followed)."),
        "customer_id": ("int64", "", "Customer."),
        "timestamp": ("datetime64[us]", "", "Time of the event."),
        "channel": ("str", "web/app/mini_program", "Digital channel of the session."),
        "event": ("str", "visit/browse/cart/purchase", "Journey step."),
        "transaction_id": ("Int64", "", "Order for purchase events (missing otherwise)."),
    },
    "truth": {
        "customer_id": ("int64", "", "Customer."),
        "segment": ("str", "", "Latent behavioural segment."),
        "purchase_rate": ("float64", "purchases/week", "Poisson purchase rate while alive (before membership effect)."),
        "dropout_prob": ("float64", "per purchase", "Base probability of dropping out after a purchase."),
        "mean_spend": ("float64", "CNY", "Expected amount per purchase (Gamma-Gamma mean p/nu)."),
        "satisfaction": ("float64", "latent", "Latent satisfaction at the observation end (0 = average)."),
        "n_complaints": ("int64", "", "Complaints filed."),
        "is_buyer": ("bool", "", "Made at least one purchase by the observation end (False = a prospect who never buys, or a recent sign-up who has not bought yet)."),
        "alive_at_campaign": ("bool", "", "Still active on the campaign date."),
        "dropout_date": ("datetime64[us]", "", "Time of the purchase after which the customer dropped out (NaT if alive at the end)."),
        "alive_at_end": ("bool", "", "Still active at the observation end."),
        "expected_purchases_52w": ("float64", "purchases", "Expected purchases in the 52 weeks after the observation end."),
        "expected_value_52w": ("float64", "CNY", "Expected spend in the 52 weeks after the observation end."),
        "true_uplift": ("float64", "probability", "Reduction in the probability of dropping out by the observation end caused by the campaign offer (0 if not alive at the campaign; slightly negative for the few whom the extra purchases expose to more dropout than the offer saves)."),
    },
    "accounts": {
        "account_id": ("int64", "", "Account key, 1..n."),
        "account_name": ("str", "", "Fake organisation name."),
        "industry": ("str", "hospital/hotel/school/office/restaurant_chain/manufacturer", "Industry of the account."),
        "size_band": ("str", "small/medium/large", "Size of the organisation."),
        "employees": ("int64", "people", "Head count."),
        "region": ("str", "east/north/south/west/central", "Sales region."),
        "revenue_last_year": ("float64", "CNY", "Recurring business with the account in the last 12 months (current value), before the new deals of `opportunities`."),
        "potential_estimate": ("float64", "CNY/year", "The sales team's estimate of the account's annual wallet for our categories (noisy)."),
        "fit_score": ("int64", "1-5", "The sales team's rating of strategic fit (5 = best)."),
    },
    "contacts": {
        "contact_id": ("int64", "", "Contact key."),
        "account_id": ("int64", "", "Account."),
        "contact_name": ("str", "", "Fake name."),
        "role": ("str", "decision_maker/influencer/user/buyer/gatekeeper", "Buying-centre role."),
        "influence": ("int64", "1-5", "Influence on the buying decision as recorded by the rep."),
    },
    "opportunities": {
        "opportunity_id": ("int64", "", "Opportunity key."),
        "account_id": ("int64", "", "Account."),
        "created_date": ("datetime64[us]", "", "Day the opportunity entered the pipeline (as a lead)."),
        "list_value": ("float64", "CNY", "Value of the deal at list price."),
        "stage": ("str", "lead/qualified/proposal/negotiation/won/lost", "Stage at the observation end (won/lost = closed)."),
        "close_date": ("datetime64[us]", "", "Day the opportunity was won or lost (missing while open)."),
        "discount": ("float64", "share of list", "Discount conceded in the agreed deal (missing unless won)."),
        "won_value": ("float64", "CNY", "Agreed value of a won deal (0 otherwise)."),
    },
    "opportunity_stages": {
        "opportunity_id": ("int64", "", "Opportunity."),
        "stage": ("str", "lead/qualified/proposal/negotiation/won/lost", "Stage entered."),
        "entered_date": ("datetime64[us]", "", "Day the stage was entered."),
    },
    "activities": {
        "activity_id": ("int64", "", "Activity key."),
        "account_id": ("int64", "", "Account."),
        "contact_id": ("int64", "", "Contact met or called."),
        "date": ("datetime64[us]", "", "Date and time of the visit or call."),
        "activity_type": ("str", "visit/call/follow_up_call", "On-site visit (拜访), call, or follow-up call (回访)."),
    },
    "account_truth": {
        "account_id": ("int64", "", "Account."),
        "potential": ("float64", "CNY/year", "True annual wallet for our categories."),
        "share_of_wallet": ("float64", "share", "Share of the wallet we hold today."),
        "fit": ("float64", "0-1", "True strategic fit."),
        "competition": ("float64", "0-1", "Intensity of competition for this account."),
        "key_account": ("bool", "", "Top 20% by potential x fit: the accounts worth managing as key accounts."),
    },
    "opportunity_truth": {
        "opportunity_id": ("int64", "", "Opportunity."),
        "reservation_share": ("float64", "share of list", "The account's walk-away price as a share of list value (its reservation price)."),
        "cost_share": ("float64", "share of list", "The company's cost floor as a share of list value (its reservation price)."),
    },
}


def data_card_markdown() -> str:
    """The column reference of ``datasets/README.md``: one markdown table per table."""
    parts = []
    for name, columns in TABLES.items():
        parts.append(f"### `{name}`\n\n{TABLE_DESCRIPTIONS[name]}\n")
        parts.append("| column | dtype | unit / values | meaning |\n|---|---|---|---|")
        for col, (dtype, unit, meaning) in columns.items():
            parts.append(f"| `{col}` | {dtype} | {unit} | {meaning} |")
        parts.append("")
    return "\n".join(parts)
