{#- The one unit conversion in the project, checked on known values: AWS's metric tonnes CO2e
    become kilograms (1 t = 1000 kg), exactly, for fractions, zero, negatives and NULL. Fails
    with the cases the macro gets wrong. -#}
with cases as (
    select cast(1 as {{ dbt.type_numeric() }}) as tonnes, cast(1000 as {{ dbt.type_numeric() }}) as kilograms
    union all
    select cast(0.000123 as {{ dbt.type_numeric() }}), cast(0.123 as {{ dbt.type_numeric() }})
    union all
    select cast(2.5 as {{ dbt.type_numeric() }}), cast(2500 as {{ dbt.type_numeric() }})
    union all
    select cast(0 as {{ dbt.type_numeric() }}), cast(0 as {{ dbt.type_numeric() }})
    union all
    select cast(-0.75 as {{ dbt.type_numeric() }}), cast(-750 as {{ dbt.type_numeric() }})
    union all
    select cast(null as {{ dbt.type_numeric() }}), cast(null as {{ dbt.type_numeric() }})
)
select tonnes, kilograms, {{ mtco2e_to_kgco2e('tonnes') }} as converted
from cases
where {{ mtco2e_to_kgco2e('tonnes') }} <> kilograms
    or ({{ mtco2e_to_kgco2e('tonnes') }} is null) <> (kilograms is null)
