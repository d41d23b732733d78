{#- Fails for every value combination of `columns` that `to` does not map: unmapped regions or
    services surface here instead of turning into NULLs downstream. -#}
{% test mapped_in(model, columns, to) %}
select distinct {% for c in columns %}m.{{ c }}{% if not loop.last %}, {% endif %}{% endfor %}
from {{ model }} as m
left join {{ to }} as d
    on {% for c in columns %}m.{{ c }} = d.{{ c }}{% if not loop.last %} and {% endif %}{% endfor %}
where d.{{ columns[0] }} is null
{% endtest %}
