{#- Fails for every group of `group_by` whose sum of `column` differs from the sum of
    `to_column` in `to` (missing groups count as 0): two reports of one provider that must add
    up to the same figures. -#}
{% test totals_match(model, column, to, group_by, to_column=none) %}
{%- set other = to_column or column -%}
with this_total as (
    select {{ group_by | join(', ') }}, sum({{ column }}) as total
    from {{ model }}
    group by {{ group_by | join(', ') }}
),
other_total as (
    select {{ group_by | join(', ') }}, sum({{ other }}) as total
    from {{ to }}
    group by {{ group_by | join(', ') }}
)
select
    {% for c in group_by %}coalesce(t.{{ c }}, o.{{ c }}) as {{ c }},
    {% endfor -%}
    t.total as model_total,
    o.total as compared_total
from this_total as t
full outer join other_total as o
    on {% for c in group_by %}t.{{ c }} = o.{{ c }}{% if not loop.last %} and {% endif %}{% endfor %}
where coalesce(t.total, 0) <> coalesce(o.total, 0)
{% endtest %}
