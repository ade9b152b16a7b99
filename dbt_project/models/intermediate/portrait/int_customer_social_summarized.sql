{#-
  One row per customer with an order in int_orders_filtered: the social activities (on or before the
  as-of date) behind the portrait's social tags. No rows while social_activities has not landed (no
  rows at all).
-#}
with

orders as (

    select * from {{ ref('int_orders_filtered') }}

),

social_activities as (

    select * from {{ ref('stg_shop__social_activities') }}

),

customers as (

    select distinct customer_id from orders

),

social_summary as (

    select
        customer_id,
        sum(case when activity_type = 'share' then 1 else 0 end) as shares_sent,
        sum(case when activity_type = 'referral' then 1 else 0 end) as friends_referred,
        count(distinct case when activity_type = 'group_buy' then group_buy_id end) as group_buys_joined

    from social_activities
    where activity_date <= {{ as_of_date() }}
    group by customer_id

)

select
    customers.customer_id,
    coalesce(social_summary.shares_sent, 0) as shares_sent,
    coalesce(social_summary.friends_referred, 0) as friends_referred,
    coalesce(social_summary.group_buys_joined, 0) as group_buys_joined

from customers
left join social_summary on customers.customer_id = social_summary.customer_id
where {{ has_rows('social_activities') }}
