{#-
  One row per customer with an order in int_orders_filtered: the reviews (written on or before the
  as-of date) behind the portrait's reviews tags. Sentiment: rating 1-2 negative, 4-5 positive; a 3
  is negative when its text carries a negative word (Chinese or English), else neutral. No rows while
  reviews has not landed (no rows at all).
-#}
{%- set negative_words = ['差', '失望', '坏', '慢', '退货', 'bad', 'poor', 'disappoint', 'broken', 'slow', 'terrible'] -%}
-- SQLFluff measures the indent of the rows a Jinja loop renders, not of its source:
-- noqa: disable=LT02
with

orders as (

    select * from {{ ref('int_orders_filtered') }}

),

reviews as (

    select * from {{ ref('stg_shop__reviews') }}

),

customers as (

    select distinct customer_id from orders

),

review_sentiment as (

    select
        customer_id,
        rating,
        case
            when rating <= 2 then 'negative'
            when rating >= 4 then 'positive'
            when {% for word in negative_words -%}
                lower(coalesce(review_text, '')) like '%{{ word }}%'{{ ' or ' if not loop.last }}
                {%- endfor %} then 'negative'
            else 'neutral'
        end as sentiment

    from reviews
    where review_date <= {{ as_of_date() }}

),

review_summary as (

    select
        customer_id,
        count(*) as review_count,
        avg(rating) as avg_rating,
        avg(case when sentiment = 'negative' then 1.0 else 0.0 end) as negative_review_share

    from review_sentiment
    group by customer_id

)

select
    customers.customer_id,
    coalesce(review_summary.review_count, 0) as review_count,
    review_summary.avg_rating,
    review_summary.negative_review_share

from customers
left join review_summary on customers.customer_id = review_summary.customer_id
where {{ has_rows('reviews') }}
